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

# Whether the kernel command line has this word (vmm.net=tap is not vmm.net=tap2).
has_arg() {
    for a in $(cat /proc/cmdline); do [ "$a" = "$1" ] && return 0; done
    return 1
}

# Every NIC by MAC, with the driver Linux bound to it (e1000, virtio_net).
nic_drivers() {
    for n in /sys/class/net/*; do
        [ -e "$n/device/driver" ] || continue
        d=$(readlink "$n/device/driver")
        echo "vmm-guest: nic $(cat "$n/address") is ${n##*/}, driver ${d##*/}"
    done
}

# An interface that is up has a carrier once its driver saw the link (an
# e1000's watchdog reads it from the PHY some time after open): up to 10 s.
wait_carrier() {
    t=0
    while [ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" != 1 ]; do
        [ $t -lt 20 ] || { fail "no carrier on $1 after 10 s"; return 1; }
        sleep 0.5
        t=$((t + 1))
    done
    echo "vmm-guest: carrier on $1 after $((t / 2)).$((t % 2 * 5)) s"
}

# User-mode NAT: a DHCP lease, then the gateway answers pings.
net_user() {
    i=$(iface_of 52:54:00:12:34:01)
    [ -n "$i" ] || { fail "no NIC with MAC 52:54:00:12:34:01"; return; }
    ip link set "$i" up
    wait_carrier "$i" || return
    timeout 60 udhcpc -i "$i" -n -q -t 5 -T 2 -s /usr/share/udhcpc/default.script || { fail "no DHCP lease on $i"; return; }
    ping -c 3 -W 5 10.0.2.2 >/tmp/ping || { cat /tmp/ping; fail "the gateway did not answer"; return; }
    echo "vmm-guest: user network up on $i, gateway answered"
}

# echo_check IFACE HOST PORT BLOCKS NAME: BLOCKS x 64 KiB of random bytes to
# tcp_echo.py on HOST:PORT (linux.sh's, one connection each) and back, byte
# for byte.
echo_check() {
    dd if=/dev/urandom of=/tmp/blob bs=64k count="$4" 2>/dev/null
    timeout 120 nc "$2" "$3" </tmp/blob >/tmp/back
    echo "vmm-guest: $5 sent $(md5sum </tmp/blob | cut -d' ' -f1)"
    cmp -s /tmp/blob /tmp/back || { fail "the $5 echo over $1 differs ($(wc -c </tmp/back) bytes back)"; return 1; }
    echo "vmm-guest: $5 echo intact on $1"
}

# net_tap MAC ADDRESS/LEN HOST PORT BLOCKS NAME: a tap to the host: ping it,
# then send it a blob over TCP and get it back.
net_tap() {
    i=$(iface_of "$1")
    [ -n "$i" ] || { fail "no NIC with MAC $1"; return 1; }
    ip addr add "$2" dev "$i"
    ip link set "$i" up
    wait_carrier "$i" || return 1
    ping -c 3 -W 5 "$3" >/tmp/ping || { cat /tmp/ping; fail "the host did not answer on $i"; return 1; }
    echo_check "$i" "$3" "$4" "$5" "$6"
}

# link_cycle MAC HOST PORT BLOCKS: the link down and up again (the driver
# stops the device, resets it and rebuilds its rings), then the host answers
# and a second blob comes back whole.
link_cycle() {
    i=$(iface_of "$1")
    [ -n "$i" ] || { fail "no NIC with MAC $1"; return 1; }
    ip link set "$i" down
    state=$(cat "/sys/class/net/$i/operstate")
    [ "$state" = down ] || { fail "$i is $state after link down"; return 1; }
    sleep 1
    ip link set "$i" up
    wait_carrier "$i" || return 1
    ping -c 3 -W 5 "$2" >/tmp/ping || { cat /tmp/ping; fail "the host did not answer on $i after link up"; return 1; }
    echo_check "$i" "$2" "$3" "$4" relink || return 1
    echo "vmm-guest: link cycle survived on $i"
}

# NVMe (linux.sh nvme, nvme-qemu): the controller and namespace Linux's
# nvme driver made of the one NVMe disk, then a file system on it over two
# boots. vmm.nvme=write: mkfs.ext4 (Debian's, copied in by linux.sh), a
# 4 MiB file written, remounted and read back, then a 64 MiB file synced to
# the disk. vmm.nvme=trim: the 4 MiB file read back once more, the big one
# deleted and its blocks discarded with fstrim. linux.sh measures the
# image's allocated blocks in between.
nvme_dmesg() {
    dmesg | grep -i nvme | sed 's/^/vmm-guest: dmesg: /'
}
nvme_fail() {
    fail "$*"
    nvme_dmesg
}
nvme_check() {
    step=$1 m=/mnt/nvme b=/sys/block/nvme0n1 c=/sys/class/nvme/nvme0
    # Debian's mkfs.ext4 from the host, at the host's path.
    PATH=/bin:/sbin:/usr/bin:/usr/sbin
    # The driver probes and scans namespaces in a work queue, after insmod.
    t=0
    while [ ! -b /dev/nvme0n1 ] || [ ! -e $b/mq ]; do
        [ $t -lt 40 ] || { nvme_fail "no /dev/nvme0n1 10 s after the nvme module loaded"; return; }
        sleep 0.25
        t=$((t + 1))
    done
    echo "vmm-guest: nvme0n1 after $((t / 4)).$((t % 4 * 25)) s"
    d=$(readlink $c/device/driver)
    echo "vmm-guest: nvme driver ${d##*/}"
    echo "vmm-guest: nvme serial $(cat $c/serial)"
    echo "vmm-guest: nvme model $(cat $c/model), firmware $(cat $c/firmware_rev)"
    echo "vmm-guest: nvme bytes $(($(cat $b/size) * 512))"
    echo "vmm-guest: nvme queues $(ls $b/mq | wc -l)"
    echo "vmm-guest: nvme discard_max_bytes $(cat $b/queue/discard_max_bytes)"
    nvme_dmesg
    mkdir -p $m
    case $step in
    write)
        mkfs.ext4 -q -F /dev/nvme0n1 || { nvme_fail "mkfs.ext4 /dev/nvme0n1"; return; }
        mount -t ext4 /dev/nvme0n1 $m || { nvme_fail "mount /dev/nvme0n1"; return; }
        dd if=/dev/urandom of=$m/data bs=64k count=64 2>/dev/null
        sync
        sum=$(md5sum < $m/data)
        umount $m || { nvme_fail "umount $m"; return; }
        mount -t ext4 /dev/nvme0n1 $m || { nvme_fail "remount /dev/nvme0n1"; return; }
        [ "$(md5sum < $m/data)" = "$sum" ] || { nvme_fail "nvme data changed across a remount"; return; }
        echo "vmm-guest: nvme data ${sum%% *}"
        # 64 MiB that is not zeros: 16 copies of the random file.
        for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do cat $m/data; done > $m/big
        sync
        echo "vmm-guest: nvme big $(du -k $m/big | cut -f1) KiB, file system $(df -k $m | awk 'NR == 2 {print $3}') KiB used"
        umount $m || { nvme_fail "umount $m"; return; } ;;
    trim)
        mount -t ext4 /dev/nvme0n1 $m || { nvme_fail "mount /dev/nvme0n1"; return; }
        echo "vmm-guest: nvme data again $(md5sum < $m/data | cut -d' ' -f1)"
        rm $m/big
        sync
        out=$(fstrim -v $m 2>&1) || { nvme_fail "fstrim $m: $out"; return; }
        echo "vmm-guest: nvme fstrim: $out"
        umount $m || { nvme_fail "umount $m"; return; } ;;
    esac
    echo "vmm-guest: nvme $step done"
}

for serial in $(cat /proc/cmdline); do
    case "$serial" in
    vmm.disk=*) disk_check "${serial#vmm.disk=}" ;;
    vmm.nvme=*) nvme_check "${serial#vmm.nvme=}" ;;
    esac
done
nic_drivers
# The MACs, addresses, ports and sizes are linux.sh's.
has_arg vmm.net=user && net_user
has_arg vmm.net=tap && net_tap 52:54:00:12:34:02 10.0.3.15/24 10.0.3.1 5556 64 tap
has_arg vmm.net=tap2 && net_tap 52:54:00:12:34:03 10.0.4.15/24 10.0.4.1 5557 16 tap2
has_arg vmm.linkcycle && link_cycle 52:54:00:12:34:02 10.0.3.1 5558 16
has_arg vmm.reboot && touch /tmp/vmm-reboot
echo "vmm-guest: done"
