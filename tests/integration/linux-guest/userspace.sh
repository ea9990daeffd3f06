# Runs as /init's script in the Linux test guest (tools/linux-guest.py):
# user space on every device vmm gave it. Prints "vmm-guest:" lines that
# tests/integration/linux.sh checks; a failed step prints "vmm-guest: FAIL".
fail() { echo "vmm-guest: FAIL $*"; }

sh /etc/vmm/default.sh      # nproc, MemTotal, the e820 RAM
echo "vmm-guest: online $(cat /sys/devices/system/cpu/online)"

# A disk by its serial: make a file system, write, remount, read back.
disk_check() {
    serial=$1
    dev=
    for b in /sys/block/vd*; do
        [ "$(cat "$b/serial" 2>/dev/null)" = "$serial" ] && dev=/dev/${b##*/}
    done
    [ -n "$dev" ] || { fail "no disk with serial $serial"; return; }
    echo "vmm-guest: $serial is $dev ($(cat /sys/block/${dev#/dev/}/size) sectors)"
    mke2fs -q "$dev" || { fail "mke2fs $dev"; return; }
    mkdir -p /mnt/$serial
    mount -t ext2 "$dev" /mnt/$serial || { fail "mount $dev"; return; }
    dd if=/dev/urandom of=/mnt/$serial/data bs=64k count=48 2>/dev/null
    sum=$(md5sum < /mnt/$serial/data)
    umount /mnt/$serial
    mount -t ext2 "$dev" /mnt/$serial || { fail "remount $dev"; return; }
    [ "$(md5sum < /mnt/$serial/data)" = "$sum" ] || fail "$serial data changed across a remount"
    umount /mnt/$serial
    echo "vmm-guest: $serial data ${sum%% *}"
}

# The interface with this MAC.
iface_of() {
    for n in /sys/class/net/*; do
        [ "$(cat "$n/address")" = "$1" ] && { echo "${n##*/}"; return; }
    done
}

# User-mode NAT: a DHCP lease, then the gateway answers pings.
net_user() {
    i=$(iface_of 52:54:00:12:34:01)
    [ -n "$i" ] || { fail "no NIC with MAC 52:54:00:12:34:01"; return; }
    timeout 60 udhcpc -i "$i" -n -q -t 5 -T 2 -s /usr/share/udhcpc/default.script || { fail "no DHCP lease on $i"; return; }
    ping -c 3 -W 5 10.0.2.2 >/tmp/ping || { cat /tmp/ping; fail "the gateway did not answer"; return; }
    echo "vmm-guest: user network up on $i, gateway answered"
}

# A tap to the host: ping it, then send it a blob over TCP and get it back.
net_tap() {
    i=$(iface_of 52:54:00:12:34:02)
    [ -n "$i" ] || { fail "no NIC with MAC 52:54:00:12:34:02"; return; }
    ip addr add 10.0.3.15/24 dev "$i"
    ip link set "$i" up
    ping -c 3 -W 5 10.0.3.1 >/tmp/ping || { cat /tmp/ping; fail "the host did not answer on $i"; return; }
    dd if=/dev/urandom of=/tmp/blob bs=64k count=64 2>/dev/null
    timeout 120 nc 10.0.3.1 5556 </tmp/blob >/tmp/back
    echo "vmm-guest: tap sent $(md5sum </tmp/blob | cut -d' ' -f1)"
    cmp -s /tmp/blob /tmp/back || { fail "the echo over $i differs ($(wc -c </tmp/back) bytes back)"; return; }
    echo "vmm-guest: tap echo intact on $i"
}

for serial in $(cat /proc/cmdline); do
    case "$serial" in vmm.disk=*) disk_check "${serial#vmm.disk=}" ;; esac
done
grep -q vmm.net=user /proc/cmdline && net_user
grep -q vmm.net=tap /proc/cmdline && net_tap
grep -q vmm.reboot /proc/cmdline && touch /tmp/vmm-reboot
echo "vmm-guest: done"
