// The host structures the sym53c8xx initiator SCRIPTS work on (HCB, TCB, CCB), and
// the interrupt codes of the script: the contract between the SCRIPTS program and the
// C-side (here AssemblyScript) of the driver, as Linux's sym_fw2.h and sym_hipd.h share
// it. Written down once for the guests' driver (guest-lib/drivers/sym53c8xx*.ts) and
// the tests' reference script (test/scripts-asm.ts, of which the driver's SCRIPTS are
// a port). Not hardware: the chip only sees addresses; test/scripts-asm.ts draws the
// layout.
//
// Compiles as TypeScript and as AssemblyScript (constants only, typed u32: see
// common/as-types.d.ts). Offsets in bytes, words little-endian.

// HCB (256-byte aligned: the SCRIPTS index TARGTBL by replacing DSA's low byte):
export const HCB_TARGTBL: u32 = 0x000; // u32[16] TCB per SCSI ID
export const HCB_STARTPOS: u32 = 0x040; // start-queue entry the SCRIPTS take next
export const HCB_DONEPOS: u32 = 0x044; // done-queue entry the SCRIPTS fill next
export const HCB_SCRATCH: u32 = 0x048;
export const HCB_MSGIN: u32 = 0x04c;
export const HCB_IDLECCB: u32 = 0x060; // the idle task: START = `idle`
export const HCB_STARTQ: u32 = 0x100; // {dsa, next}[SQ_SLOTS]
export const SQ_SLOTS: u32 = 64;
export const DQ_SLOTS: u32 = 64;
export const HCB_DONEQ: u32 = HCB_STARTQ + 8 * SQ_SLOTS; // {dsa, next}[DQ_SLOTS]; dsa 0 = empty
export const HCB_SIZE: u32 = HCB_DONEQ + 8 * DQ_SLOTS;
export const TCB_SIZE: u32 = 0x100; // u32 CCB per tag, 256-byte aligned
export const MAX_TAGS: u32 = 64;
// CCB, one per slot:
export const CCB_START: u32 = 0x00;
export const CCB_SELECT: u32 = 0x04;
export const CCB_MSGOUT: u32 = 0x08;
export const CCB_CMD: u32 = 0x10;
export const CCB_STATUS: u32 = 0x18;
export const CCB_SAVEP: u32 = 0x20;
export const CCB_PM: u32 = 0x24;
export const CCB_PM_RET: u32 = 0x2c;
export const CCB_STATBUF: u32 = 0x30;
export const CCB_HSTAT: u32 = 0x31; // u8 host status (the driver's)
export const CCB_MSGBUF: u32 = 0x34;
export const CCB_CDB: u32 = 0x38;
export const CCB_SG: u32 = 0x48; // {count, addr}[max S/G]: a command with n entries uses the LAST n
// SIR codes of the script (its INT instructions)
export const SIR_SEL_NO_MSGOUT: u32 = 1; // the target did not take MSG OUT after selection
export const SIR_BAD_PHASE: u32 = 2; // a phase the script does not handle
export const SIR_DATA_OVERRUN: u32 = 3; // the target wants more data than the S/G list holds
export const SIR_RESEL_NO_IDENTIFY: u32 = 4; // a reselecting target did not send IDENTIFY
export const SIR_RESEL_NO_TAG: u32 = 5; // ... nor a tag (the script only runs tagged commands)
