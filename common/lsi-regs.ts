// LSI53C895 (53C895A layout): register offsets, bits and the SCRIPTS instruction
// encoding, written down once. The device model (devices/lsi53c895*.ts), the
// sym53c8xx driver and its SCRIPTS (guest-lib/drivers/sym53c8xx*.ts) and the tests'
// SCRIPTS assembler (test/scripts-asm.ts) all take them from here, so they cannot
// disagree (test/hw-constants.test.ts checks that nothing defines them again).
//
// This file compiles as TypeScript and as AssemblyScript: constants only, no imports,
// each typed u32, so that AssemblyScript gives them one type whatever their value
// (common/as-types.d.ts says why, and what u32 is to TypeScript).
//
// Sources (DEVICES-REF.md section A): [S7] the LSI53C895A technical manual, chapter 5
// "Registers" (offsets, bits) and chapter 6 "SCRIPTS Instruction Set" (encodings);
// [S2] Linux sym_defs.h, whose names these are. What each register does in this board's
// model is in devices/lsi53c895-data.ts (reset value, access) and devices/lsi53c895.ts.
//
// Interface: LSI_* window layout, register offsets (the names with no underscore),
// <REG>_<BIT> bit masks, PH_*
// bus phases, SCR_* / BM_* / IO_* / RW_* / TC_* / LS_* SCRIPTS instruction fields.

// ---------------------------------------------------------------------------------
// The chip's window on the bus (its memory BAR): the registers, then the SCRIPTS RAM
// (which the SCRIPTS themselves reach at the same bus address).

export const LSI_REG_BYTES: u32 = 0x100;
export const LSI_RAM_OFF: u32 = 0x1000;
export const LSI_RAM_BYTES: u32 = 0x1000; // 4 KiB on the 895 (8 KiB on the 895A)
export const LSI_WINDOW_BYTES: u32 = 0x2000;

// ---------------------------------------------------------------------------------
// Registers: byte offset in the register window (0x00-0xFF); multi-byte registers are
// little-endian, a wider access at the first offset reads them whole.

export const SCNTL0: u32 = 0x00;
export const SCNTL1: u32 = 0x01;
export const SCNTL2: u32 = 0x02;
export const SCNTL3: u32 = 0x03;
export const SCID: u32 = 0x04;
export const SXFER: u32 = 0x05;
export const SDID: u32 = 0x06;
export const GPREG: u32 = 0x07;
export const SFBR: u32 = 0x08;
export const SOCL: u32 = 0x09;
export const SSID: u32 = 0x0a;
export const SBCL: u32 = 0x0b;
export const DSTAT: u32 = 0x0c;
export const SSTAT0: u32 = 0x0d;
export const SSTAT1: u32 = 0x0e;
export const SSTAT2: u32 = 0x0f;
export const DSA: u32 = 0x10; // 32-bit
export const ISTAT: u32 = 0x14;
export const ISTAT1: u32 = 0x15;
export const MBOX0: u32 = 0x16;
export const MBOX1: u32 = 0x17;
export const CTEST0: u32 = 0x18;
export const CTEST1: u32 = 0x19;
export const CTEST2: u32 = 0x1a;
export const CTEST3: u32 = 0x1b;
export const TEMP: u32 = 0x1c; // 32-bit
export const DFIFO: u32 = 0x20;
export const CTEST4: u32 = 0x21;
export const CTEST5: u32 = 0x22;
export const CTEST6: u32 = 0x23;
export const DBC: u32 = 0x24; // 24-bit
export const DCMD: u32 = 0x27;
export const DNAD: u32 = 0x28; // 32-bit
export const DSP: u32 = 0x2c; // 32-bit
export const DSPS: u32 = 0x30; // 32-bit
export const SCRATCHA: u32 = 0x34; // 32-bit
export const DMODE: u32 = 0x38;
export const DIEN: u32 = 0x39;
export const SBR: u32 = 0x3a;
export const DCNTL: u32 = 0x3b;
export const ADDER: u32 = 0x3c; // 32-bit
export const SIEN0: u32 = 0x40;
export const SIEN1: u32 = 0x41;
export const SIST0: u32 = 0x42;
export const SIST1: u32 = 0x43;
export const SLPAR: u32 = 0x44;
export const SWIDE: u32 = 0x45;
export const MACNTL: u32 = 0x46;
export const GPCNTL: u32 = 0x47;
export const STIME0: u32 = 0x48;
export const STIME1: u32 = 0x49;
export const RESPID0: u32 = 0x4a;
export const RESPID1: u32 = 0x4b;
export const STEST0: u32 = 0x4c;
export const STEST1: u32 = 0x4d;
export const STEST2: u32 = 0x4e;
export const STEST3: u32 = 0x4f;
export const SIDL: u32 = 0x50; // 16-bit
export const STEST4: u32 = 0x52;
export const SODL: u32 = 0x54; // 16-bit
export const CCNTL0: u32 = 0x56;
export const CCNTL1: u32 = 0x57;
export const SBDL: u32 = 0x58; // 16-bit
export const SCRATCHB: u32 = 0x5c; // 32-bit
export const SCRATCHC: u32 = 0x60; // 32-bit
export const SCRATCHD: u32 = 0x64; // 32-bit
export const SCRATCHE: u32 = 0x68; // 32-bit
export const SCRATCHF: u32 = 0x6c; // 32-bit
export const SCRATCHG: u32 = 0x70; // 32-bit
export const SCRATCHH: u32 = 0x74; // 32-bit
export const SCRATCHI: u32 = 0x78; // 32-bit
export const SCRATCHJ: u32 = 0x7c; // 32-bit
export const SCRATCHK: u32 = 0x80; // 32-bit
export const SCRATCHL: u32 = 0x84; // 32-bit
export const SCRATCHM: u32 = 0x88; // 32-bit
export const SCRATCHN: u32 = 0x8c; // 32-bit
export const SCRATCHO: u32 = 0x90; // 32-bit
export const SCRATCHP: u32 = 0x94; // 32-bit
export const SCRATCHQ: u32 = 0x98; // 32-bit
export const SCRATCHR: u32 = 0x9c; // 32-bit
export const MMRS: u32 = 0xa0; // 32-bit
export const MMWS: u32 = 0xa4; // 32-bit
export const SFS: u32 = 0xa8; // 32-bit
export const DRS: u32 = 0xac; // 32-bit
export const SBMS: u32 = 0xb0; // 32-bit
export const DBMS: u32 = 0xb4; // 32-bit
export const DNAD64: u32 = 0xb8; // 32-bit
export const PMJAD1: u32 = 0xc0; // 32-bit
export const PMJAD2: u32 = 0xc4; // 32-bit
export const RBC: u32 = 0xc8; // 32-bit
export const UA: u32 = 0xcc; // 32-bit
export const ESA: u32 = 0xd0; // 32-bit
export const IA: u32 = 0xd4; // 32-bit
export const SBC: u32 = 0xd8; // 32-bit
export const CSBC: u32 = 0xdc; // 32-bit

// ---------------------------------------------------------------------------------
// Bits [S7 ch. 5, S2]

export const SCNTL0_ARB_FULL: u32 = 0xc0; // 7:6 = 11 full arbitration
export const SCNTL0_START: u32 = 0x20;
export const SCNTL0_EPC: u32 = 0x08; // enable parity checking
export const SCNTL0_AAP: u32 = 0x02; // assert ATN on parity error
export const SCNTL1_CON: u32 = 0x10;
export const SCNTL1_RST: u32 = 0x08;
export const SCNTL1_IARB: u32 = 0x02;
export const SCNTL2_WSR: u32 = 0x01;
export const SCID_RRE: u32 = 0x40;
export const SCID_ID: u32 = 0x0f; // 3:0 our SCSI ID
export const SSID_VAL: u32 = 0x80; // 3:0 hold the (re)selector's ID
export const SSTAT0_WOA: u32 = 0x04;
export const SSTAT0_RST: u32 = 0x02;
export const SSTAT1_PHASE: u32 = 0x07; // MSG, C/D, I/O
export const SSTAT2_LDSC: u32 = 0x02;
export const SBCL_REQ: u32 = 0x80;
export const SBCL_ACK: u32 = 0x40;
export const SBCL_BSY: u32 = 0x20;
export const SBCL_SEL: u32 = 0x10;
export const SBCL_ATN: u32 = 0x08;
export const ISTAT_ABRT: u32 = 0x80;
export const ISTAT_SRST: u32 = 0x40;
export const ISTAT_SIGP: u32 = 0x20;
export const ISTAT_SEM: u32 = 0x10;
export const ISTAT_CON: u32 = 0x08;
export const ISTAT_INTF: u32 = 0x04;
export const ISTAT_SIP: u32 = 0x02;
export const ISTAT_DIP: u32 = 0x01;
export const ISTAT1_SRUN: u32 = 0x02;
export const DSTAT_DFE: u32 = 0x80;
export const DSTAT_MDPE: u32 = 0x40;
export const DSTAT_BF: u32 = 0x20;
export const DSTAT_ABRT: u32 = 0x10;
export const DSTAT_SSI: u32 = 0x08;
export const DSTAT_SIR: u32 = 0x04;
export const DSTAT_IID: u32 = 0x01;
export const SIST0_MA: u32 = 0x80;
export const SIST0_CMP: u32 = 0x40;
export const SIST0_SEL: u32 = 0x20;
export const SIST0_RSL: u32 = 0x10;
export const SIST0_SGE: u32 = 0x08;
export const SIST0_UDC: u32 = 0x04;
export const SIST0_RST: u32 = 0x02;
export const SIST0_PAR: u32 = 0x01;
export const SIST1_SBMC: u32 = 0x10;
export const SIST1_STO: u32 = 0x04;
export const SIST1_GEN: u32 = 0x02;
export const SIST1_HTH: u32 = 0x01;
export const CTEST2_SIGP: u32 = 0x40;
export const CTEST3_FLF: u32 = 0x08;
export const CTEST3_CLF: u32 = 0x04;
export const CTEST5_BL2: u32 = 0x04;
export const DMODE_BL: u32 = 0xc0; // 7:6 burst length code (with CTEST5.BL2 as bit 2)
export const DMODE_MAN: u32 = 0x01;
export const DCNTL_CLSE: u32 = 0x80;
export const DCNTL_PFEN: u32 = 0x20;
export const DCNTL_SSM: u32 = 0x10;
export const DCNTL_STD: u32 = 0x04;
export const DCNTL_IRQD: u32 = 0x02;
export const DCNTL_COM: u32 = 0x01;
export const STIME0_HTH: u32 = 0xf0; // 7:4 handshake-to-handshake timer; 3:0 selection timeout
export const STEST1_DBLEN: u32 = 0x08;
export const STEST1_DBLSEL: u32 = 0x04;
export const STEST2_EXT: u32 = 0x02;
export const STEST2_LOW: u32 = 0x01;
export const STEST3_TE: u32 = 0x80;
export const STEST3_STR: u32 = 0x40; // SCSI FIFO test read
export const STEST3_HSC: u32 = 0x20;
export const STEST3_CSF: u32 = 0x02;
export const STEST3_STW: u32 = 0x01; // SCSI FIFO test write
export const STEST4_LCKFRQ: u32 = 0x20;
export const CCNTL0_ENPMJ: u32 = 0x80;
export const CCNTL0_PMJCTL: u32 = 0x40;

// SCSI bus phases (SSTAT1 2:0 = MSG, C/D, I/O; the phase field of SCRIPTS)
export const PH_DATA_OUT: u32 = 0;
export const PH_DATA_IN: u32 = 1;
export const PH_COMMAND: u32 = 2;
export const PH_STATUS: u32 = 3;
export const PH_MSG_OUT: u32 = 6;
export const PH_MSG_IN: u32 = 7;

// ---------------------------------------------------------------------------------
// SCRIPTS instructions [S7 ch. 6, S2]. Dword 0: 31:30 class, 29:24 opcode and flags
// (DCMD), 23:0 count or fields (DBC); dword 1 (DSPS) an address, offset or vector; a
// memory move has a third dword. An instruction is built by OR-ing a class/opcode with
// its flags and fields: MOVE count, addr, WHEN DATA_IN = [SCR_MOVE | PH_DATA_IN << 24 |
// count, addr].

export const SCR_PHASE_SHIFT: u32 = 24; // block moves, and the phase a condition tests
export const SCR_OP_SHIFT: u32 = 27; // the opcode field 29:27 of classes 1 and 2

// Class 0, block move: CHMOV (bit 27 clear) or MOVE, direct, indirect or table-indirect
// (dword 1 = the DSA offset of a {count 23:0, address} entry).
export const SCR_CHMOV: u32 = 0x00000000;
export const SCR_MOVE: u32 = 0x08000000; // bit 27: MOVE; clear: CHMOV (a wide odd byte waits for the next move)
export const BM_TABLE: u32 = 0x10000000;
export const BM_INDIRECT: u32 = 0x20000000;

// Class 1, I/O (opcode 29:27 = 0-4) and register read-modify-write (5-7).
export const SCR_SELECT: u32 = 0x40000000;
export const SCR_WAIT_DISC: u32 = 0x48000000;
export const SCR_WAIT_RESEL: u32 = 0x50000000;
export const SCR_SET: u32 = 0x58000000;
export const SCR_CLR: u32 = 0x60000000;
export const IO_RELATIVE: u32 = 0x04000000; // alternate address relative to the next instruction
export const IO_TABLE: u32 = 0x02000000; // SELECT from a DSA-relative table entry
export const IO_SEL_ATN: u32 = 0x01000000;
export const IO_ID_SHIFT: u32 = 16; // 19:16 SCSI ID
export const IO_CARRY: u32 = 0x00000400; // SET/CLEAR flags
export const IO_TARGET: u32 = 0x00000200;
export const IO_ACK: u32 = 0x00000040;
export const IO_ATN: u32 = 0x00000008;
export const SCR_SFBR_REG: u32 = 0x68000000; // reg = SFBR op data
export const SCR_REG_SFBR: u32 = 0x70000000; // SFBR = reg op data
export const SCR_REG_REG: u32 = 0x78000000; // reg = reg op data
export const RW_OP_SHIFT: u32 = 24; // 26:24 MOV SHL OR XOR AND SHR ADD ADC
export const RW_SFBR_DATA: u32 = 0x00800000; // class 7: the data is SFBR
export const RW_REG_SHIFT: u32 = 16; // 22:16 register bits 6:0; bit 7 goes to dword bit 7
export const RW_DATA_SHIFT: u32 = 8; // 15:8 immediate data
export const RW_MOV: u32 = 0;
export const RW_SHL: u32 = 1;
export const RW_OR: u32 = 2;
export const RW_XOR: u32 = 3;
export const RW_AND: u32 = 4;
export const RW_SHR: u32 = 5;
export const RW_ADD: u32 = 6;
export const RW_ADC: u32 = 7;

// Class 2, transfer control. A test that fails when TC_TRUE is clear skips the
// instruction; with no test TC_TRUE always transfers and no TC_TRUE is a NOP.
export const SCR_JUMP: u32 = 0x80000000;
export const SCR_CALL: u32 = 0x88000000;
export const SCR_RETURN: u32 = 0x90000000;
export const SCR_INT: u32 = 0x98000000;
export const TC_RELATIVE: u32 = 0x00800000;
export const TC_CARRY: u32 = 0x00200000; // test carry
export const TC_INTFLY: u32 = 0x00100000; // INT: interrupt on the fly, the SCRIPTS go on
export const TC_TRUE: u32 = 0x00080000; // transfer if the tests are true (else if false)
export const TC_DATA: u32 = 0x00040000; // compare SFBR with 7:0, mask 15:8 (1 = ignore)
export const TC_PHASE: u32 = 0x00020000; // compare the bus phase
export const TC_WAIT: u32 = 0x00010000; // wait for REQ first (WHEN; IF does not)
export const TC_MASK_SHIFT: u32 = 8;

// Class 3: memory move (3 dwords), LOAD/STORE (absolute or DSA-relative).
export const SCR_MEMORY_MOVE: u32 = 0xc0000000;
export const SCR_STORE: u32 = 0xe0000000;
export const SCR_LOAD: u32 = 0xe1000000;
export const MM_LOADSTORE: u32 = 0x20000000; // set: LOAD/STORE; clear: memory move
export const LS_DSA_REL: u32 = 0x10000000;
export const LS_LOAD: u32 = 0x01000000;
export const LS_REG_SHIFT: u32 = 16; // 23:16 register, 2:0 byte count 1-4
