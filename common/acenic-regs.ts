// Alteon AceNIC (Tigon II): register offsets, bits, the gen_info and descriptor
// layouts, event and command codes, ring sizes and the statistics block, written down
// once. The device model (devices/acenic*.ts), the driver (guest-lib/drivers/acenic.ts)
// and the tests take them from here, so they cannot disagree
// (test/hw-constants.test.ts checks that nothing defines them again).
//
// This file compiles as TypeScript and as AssemblyScript: constants only, no imports,
// each typed u32, so that AssemblyScript gives them one type whatever their value
// (common/as-types.d.ts says why, and what u32 is to TypeScript).
//
// Sources (DEVICES-REF.md section B): [S4] Linux acenic.h (register names, as the fields
// of struct ace_regs, and bits), [S5] FreeBSD if_tireg.h (gen_info, descriptors,
// events, commands, struct ti_stats). What the model does with each is in
// devices/acenic*.ts.
//
// Interface: register offsets (the CamelCase names of struct ace_regs), HC_* LC_* PCI_*
// CPU_* MODE_* LNK_* bits, GI_* gen_info offsets, RCB_* and BD_* flags, E_* events,
// C_* commands, ring sizes, ST_* statistics block word indices.

// ---------------------------------------------------------------------------------
// Registers: byte offset in the 16 KiB BAR (32-bit words)

export const HostCtrl: u32 = 0x040;
export const LocalCtrl: u32 = 0x044;
export const MiscCfg: u32 = 0x050;
export const PciState: u32 = 0x05c;
export const WinBase: u32 = 0x068;
export const WinData: u32 = 0x06c;
export const DmaWriteState: u32 = 0x0a0;
export const DmaReadState: u32 = 0x0b0;
export const AssistState: u32 = 0x11c;
export const CpuCtrl: u32 = 0x140;
export const Pc: u32 = 0x144;
export const SramAddr: u32 = 0x154;
export const SramData: u32 = 0x158;
export const CpuBCtrl: u32 = 0x240;
export const PcB: u32 = 0x244;
export const MacStats: u32 = 0x480; // 32 words
export const Mb0Hi: u32 = 0x500;
export const Mb0Lo: u32 = 0x504;
export const Mb1Hi: u32 = 0x508;
export const CmdPrd: u32 = 0x50c;
export const Mb2Hi: u32 = 0x510;
export const TxPrd: u32 = 0x514;
export const Mb3Hi: u32 = 0x518;
export const RxStdPrd: u32 = 0x51c;
export const Mb4Hi: u32 = 0x520;
export const RxJumboPrd: u32 = 0x524;
export const Mb5Hi: u32 = 0x528;
export const RxMiniPrd: u32 = 0x52c;
export const MbSpare: u32 = 0x530; // 20 words
export const MacAddrHi: u32 = 0x600;
export const MacAddrLo: u32 = 0x604;
export const InfoPtrHi: u32 = 0x608;
export const InfoPtrLo: u32 = 0x60c;
export const MultiCastHi: u32 = 0x610;
export const MultiCastLo: u32 = 0x614;
export const ModeStat: u32 = 0x618;
export const DmaReadCfg: u32 = 0x61c;
export const DmaWriteCfg: u32 = 0x620;
export const TxBufRat: u32 = 0x624;
export const EvtCsm: u32 = 0x628;
export const CmdCsm: u32 = 0x62c;
export const TuneRxCoalTicks: u32 = 0x630;
export const TuneTxCoalTicks: u32 = 0x634;
export const TuneStatTicks: u32 = 0x638;
export const TuneMaxTxDesc: u32 = 0x63c;
export const TuneMaxRxDesc: u32 = 0x640;
export const TuneTrace: u32 = 0x644;
export const TuneLink: u32 = 0x648;
export const TuneFastLink: u32 = 0x64c;
export const TracePtr: u32 = 0x650;
export const TraceStrt: u32 = 0x654;
export const TraceLen: u32 = 0x658;
export const IfIdx: u32 = 0x65c;
export const IfMtu: u32 = 0x660;
export const MaskInt: u32 = 0x664;
export const GigLnkState: u32 = 0x668;
export const FastLnkState: u32 = 0x66c;
export const RxRetCsm: u32 = 0x680;
export const CmdRng: u32 = 0x700; // 64 words
export const Window: u32 = 0x800; // 512 words

// ---------------------------------------------------------------------------------
// Bits, layouts and codes [S4, S5]

export const HC_IN_INT: u32 = 0x01;
export const HC_CLR_INT: u32 = 0x02;
export const HC_HW_RESET: u32 = 0x08;
export const HC_BYTE_SWAP: u32 = 0x10;
export const HC_WORD_SWAP: u32 = 0x20;
export const HC_MASK_INTS: u32 = 0x40;
export const HC_REV_SHIFT: u32 = 28; // 31:28 chip revision
export const TIGON_II_REV: u32 = 6; // 4 = Tigon I (5 never shipped)

export const LC_EEPROM_DIN: u32 = 0x800000; // SDA as seen on the bus (read only)
export const LC_EEPROM_DOUT: u32 = 0x400000;
export const LC_EEPROM_OUT_EN: u32 = 0x200000; // host drives SDA
export const LC_EEPROM_CLK: u32 = 0x100000; // SCL
export const LC_SRAM_BANK_512K: u32 = 0x200;
export const MISC_SYNC_SRAM_TIMING: u32 = 0x100000; // MiscCfg

export const PCI_MEM_READ_MULTIPLE: u32 = 0x00020000;
export const PCI_66MHZ: u32 = 0x080000;
export const PCI_32BIT: u32 = 0x100000;
export const PCI_READ_CMD_MEM: u32 = 0x06000000;
export const PCI_WRITE_CMD_MEM: u32 = 0x70000000;
export const DMA_THRESH_8W: u32 = 0x80; // DmaReadCfg / DmaWriteCfg

export const CPU_RESET: u32 = 0x01;
export const CPU_TRACE: u32 = 0x02;
export const CPU_HALT: u32 = 0x10000;

export const MODE_BYTE_SWAP_BD: u32 = 0x02;
export const MODE_WORD_SWAP_BD: u32 = 0x04;
export const MODE_WARN: u32 = 0x08;
export const MODE_BYTE_SWAP_DMA: u32 = 0x10;
export const MODE_NO_JUMBO_FRAG: u32 = 0x200;
export const MODE_FATAL: u32 = 0x40000000;
export const MODE_NO_EVT_IRQ: u32 = 0x1000;
export const MODE_NO_TX_IRQ: u32 = 0x2000;
export const MODE_NO_RX_IRQ: u32 = 0x4000;

export const LNK_10MB: u32 = 0x10000;
export const LNK_100MB: u32 = 0x20000;
export const LNK_1000MB: u32 = 0x40000;
export const LNK_FULL_DUPLEX: u32 = 0x80000;
export const LNK_NEGOTIATE: u32 = 0x20000000;
export const LNK_ENABLE: u32 = 0x40000000;
export const LNK_UP: u32 = 0x80000000;

// gen_info (host memory, 0x490 bytes)
export const GI_STATS: u32 = 0x000;
export const GI_EVT_RCB: u32 = 0x400;
export const GI_CMD_RCB: u32 = 0x410;
export const GI_TX_RCB: u32 = 0x420;
export const GI_STD_RCB: u32 = 0x430;
export const GI_JUMBO_RCB: u32 = 0x440;
export const GI_MINI_RCB: u32 = 0x450;
export const GI_RET_RCB: u32 = 0x460;
export const GI_EVT_PRD_PTR: u32 = 0x470;
export const GI_RX_RET_PRD_PTR: u32 = 0x478;
export const GI_TX_CSM_PTR: u32 = 0x480;
export const GI_STATS_PTR: u32 = 0x488;
export const GEN_INFO_BYTES: u32 = 0x490;
export const CMD_RING_NIC_ADDR: u32 = 0x100; // the command RCB's address: CmdRng, in NIC memory

// RCB flags (ring control block word 2, bits 15:0; max_len in 31:16)
export const RCB_TCP_UDP_SUM: u32 = 0x01;
export const RCB_IP_SUM: u32 = 0x02;
export const RCB_NO_PSEUDO_HDR: u32 = 0x08;
export const RCB_VLAN_ASSIST: u32 = 0x10;
export const RCB_COAL_INT_ONLY: u32 = 0x20;
export const RCB_TX_HOST_RING: u32 = 0x40;
export const RCB_EXT_RX_BD: u32 = 0x100;
export const RCB_DISABLED: u32 = 0x200;

// BD flags
export const BD_TCP_UDP_SUM: u32 = 0x0001;
export const BD_IP_SUM: u32 = 0x0002;
export const BD_END: u32 = 0x0004;
export const BD_MORE: u32 = 0x0008;
export const BD_JUMBO: u32 = 0x0010;
export const BD_UCAST: u32 = 0x0020;
export const BD_MCAST: u32 = 0x0040;
export const BD_BCAST: u32 = 0x0060;
export const BD_IP_FRAG: u32 = 0x0080;
export const BD_VLAN_TAG: u32 = 0x0200;
export const BD_ERROR: u32 = 0x0400;
export const BD_COAL_NOW: u32 = 0x0800;
export const BD_MINI: u32 = 0x1000;
/** err_flags of a return BD with BD_ERROR (this model's codes). */
export const RXERR_DMA_FAULT: u32 = 0x0001;
export const RXERR_BUFFER_SMALL: u32 = 0x0002;

// Events (word 31:24 type, 23:12 code, 11:0 index; 8 bytes each)
export const E_FW_RUNNING: u32 = 0x01;
export const E_STATS_UPDATED: u32 = 0x04;
export const E_LINK: u32 = 0x06;
export const E_C_LINK_UP: u32 = 0x01;
export const E_C_LINK_DOWN: u32 = 0x02;
export const E_ERROR: u32 = 0x07;
export const E_C_ERR_INVAL_CMD: u32 = 0x01;
export const E_C_ERR_UNIMP_CMD: u32 = 0x02;
export const E_C_ERR_BAD_CFG: u32 = 0x03;
export const E_RESET_JUMBO_RNG: u32 = 0x09;

// Commands (same word layout, 4 bytes each in CmdRng)
export const C_HOST_STATE: u32 = 0x01; // code 1 up, 2 down
export const C_UPDATE_STATS: u32 = 0x04;
export const C_RESET_JUMBO_RNG: u32 = 0x05;
export const C_SET_PROMISC_MODE: u32 = 0x0a; // code 1 on, 2 off
export const C_LNK_NEGOTIATION: u32 = 0x0b;
export const C_SET_MAC_ADDR: u32 = 0x0c;
export const C_CLEAR_PROFILE: u32 = 0x0d;
export const C_SET_MULTICAST_MODE: u32 = 0x0e; // code 1 all-multicast on, 2 off
export const C_CLEAR_STATS: u32 = 0x0f;
export const C_REFRESH_STATS: u32 = 0x11;
// Tigon I commands, and the extended multicast pair of BSD's Tigon II firmware 12.4
export const C_FDR_FILTERING: u32 = 0x02;
export const C_SET_RX_PRD_IDX: u32 = 0x03;
export const C_ADD_MULTICAST_ADDR: u32 = 0x08;
export const C_DEL_MULTICAST_ADDR: u32 = 0x09;
export const C_SET_RX_JUMBO_PRD_IDX: u32 = 0x10;
export const C_EXT_ADD_MULTICAST_ADDR: u32 = 0x12;
export const C_EXT_DEL_MULTICAST_ADDR: u32 = 0x13;

// Ring sizes fixed by the firmware (Linux acenic.h)
export const EVT_RING_ENTRIES: u32 = 256;
export const CMD_RING_ENTRIES: u32 = 64;
export const TX_RING_ENTRIES: u32 = 256; // default when the TX RCB's max_len is 0
export const RX_STD_RING_ENTRIES: u32 = 512;
export const RX_JUMBO_RING_ENTRIES: u32 = 256;
export const RX_MINI_RING_ENTRIES: u32 = 1024;
export const RX_RETURN_RING_ENTRIES: u32 = 2048; // default when the return RCB's max_len is 0
export const TX_BD_BYTES: u32 = 16;
export const RX_BD_BYTES: u32 = 32;

// I2C serial EEPROM on LocalCtrl: device address, where the station address is
export const EEPROM_DEVICE: u32 = 0xa0; // | 1 to read
export const EEPROM_MAC_OFF: u32 = 0x8c; // two zero bytes, then the six address bytes

// Statistics block (the first 1 KiB of gen_info, DMA'd by the NIC): word indices of
// FreeBSD if_tireg.h struct ti_stats. Words marked u64 are written low word first.
export const ST_FCS_ERRORS: u32 = 1;
export const ST_FRAME_TOO_LONGS: u32 = 10;
export const ST_IF_INDEX: u32 = 12;
export const ST_IF_TYPE: u32 = 13;
export const ST_IF_MTU: u32 = 14;
export const ST_IF_SPEED: u32 = 15;
export const ST_IF_ADMIN_STATUS: u32 = 16;
export const ST_IF_OPER_STATUS: u32 = 17;
export const ST_IF_IN_DISCARDS: u32 = 19;
export const ST_IF_IN_ERRORS: u32 = 20;
export const ST_IF_OUT_DISCARDS: u32 = 22;
export const ST_IF_OUT_ERRORS: u32 = 23;
export const ST_IF_PHYS_ADDRESS: u32 = 25; // 8 bytes
export const ST_IN_OCTETS: u32 = 36; // u64, frame bytes + FCS
export const ST_IN_UCAST: u32 = 38; // u64
export const ST_IN_MCAST: u32 = 40; // u64
export const ST_IN_BCAST: u32 = 42; // u64
export const ST_OUT_OCTETS: u32 = 44; // u64
export const ST_OUT_UCAST: u32 = 46; // u64
export const ST_OUT_MCAST: u32 = 48; // u64
export const ST_OUT_BCAST: u32 = 50; // u64
export const ST_IF_HIGH_SPEED: u32 = 53;
export const ST_IF_PROMISC: u32 = 54;
export const ST_CMDS_BASE: u32 = 56; // 56..72: per-command counters (index table below)
export const ST_CMDS_UNKNOWN: u32 = 72;
export const ST_EVT_FW_RUNNING: u32 = 73;
export const ST_EVT_STATS_UPDATED: u32 = 74;
export const ST_EVT_LINK: u32 = 75;
export const ST_EVT_ERROR: u32 = 76;
export const ST_EVT_RESET_JUMBO: u32 = 78;
export const ST_INTERRUPTS: u32 = 82;
export const ST_AVOIDED_INTERRUPTS: u32 = 83;
export const ST_DMA_WR_ABORTS: u32 = 91;
export const ST_DMA_RD_ABORTS: u32 = 92;
export const ST_EVENT_RING_FULL: u32 = 95;
export const ST_NO_MORE_RX_BDS: u32 = 100;
export const ST_RX_DROP_ULA: u32 = 116;
export const ST_RX_DROP_MCAST: u32 = 117;
export const ST_RX_DROP_SPACE: u32 = 119;
