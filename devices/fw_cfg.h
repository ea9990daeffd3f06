/*
 * QEMU's firmware configuration device (fw_cfg), as SeaBIOS and OVMF find
 * it on x86: a selector port, a data port and a DMA address register;
 * see fw_cfg.c.
 */
#ifndef DEVICES_FW_CFG_H
#define DEVICES_FW_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "guest_mem.h"

#define FW_CFG_PORT_BASE 0x510      /* selector 0x510, data 0x511, DMA 0x514-0x51b */
#define FW_CFG_PORT_LEN 12

/* Item keys (docs/specs/fw_cfg.rst, "Selector Register"). */
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_BOOT_MENU 0x0e
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_FILE_SLOTS 64
#define FW_CFG_NAME_MAX 56          /* with the NUL */

struct fw_cfg;

struct fw_cfg *fw_cfg_create(const struct guest_mem *gm);
void fw_cfg_destroy(struct fw_cfg *fc);

/*
 * An item under one of the fixed keys below FW_CFG_FILE_FIRST, or a named
 * file (given the next free key and listed in the file directory). The
 * bytes are copied. -1 for a bad key, a bad or repeated name, no slot left
 * or no memory.
 */
int fw_cfg_add_item(struct fw_cfg *fc, uint16_t key, const void *data, uint32_t len);
int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, uint32_t len);
int fw_cfg_add_u16(struct fw_cfg *fc, uint16_t key, uint16_t value);

/* The device on the port I/O bus: opaque is the struct fw_cfg. */
extern const struct bus_device_ops fw_cfg_ops;

#endif
