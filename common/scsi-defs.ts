// SCSI constants both ends of the bus use, written down once: the status bytes,
// messages, the opcodes of the commands this board's disks implement, sense keys and
// the additional sense codes they report. Used by the disks (devices/scsi-disk.ts),
// the controller model (devices/lsi53c895*.ts; devices/scsi.ts re-exports them) and the
// guests' SCSI driver (guest-lib/drivers/sym53c8xx.ts).
// Sources: SCSI-2 (X3.131-1994) for status and messages, SPC-2 / SBC for opcodes, sense
// keys and ASC/ASCQ (DEVICES-REF.md section A names the message bytes).
// Compiles as TypeScript and as AssemblyScript (constants only, typed u32: see
// common/as-types.d.ts).

export const STATUS_GOOD: u32 = 0x00;
export const STATUS_CHECK_CONDITION: u32 = 0x02;
export const STATUS_BUSY: u32 = 0x08;
export const STATUS_QUEUE_FULL: u32 = 0x28;

// Messages
export const MSG_COMMAND_COMPLETE: u32 = 0x00;
export const MSG_EXTENDED: u32 = 0x01; // then a length and the message (SDTR, WDTR, PPR)
export const MSG_SAVE_DATA_POINTER: u32 = 0x02;
export const MSG_RESTORE_POINTERS: u32 = 0x03;
export const MSG_DISCONNECT: u32 = 0x04;
export const MSG_ABORT: u32 = 0x06;
export const MSG_REJECT: u32 = 0x07;
export const MSG_NOP: u32 = 0x08;
export const MSG_DEVICE_RESET: u32 = 0x0c;
export const MSG_ABORT_TAG: u32 = 0x0d;
export const MSG_CLEAR_QUEUE: u32 = 0x0e;
export const MSG_SIMPLE_TAG: u32 = 0x20;
export const MSG_HEAD_TAG: u32 = 0x21;
export const MSG_ORDERED_TAG: u32 = 0x22;
export const MSG_IDENTIFY: u32 = 0x80; // | MSG_IDENTIFY_DISC | lun
export const MSG_IDENTIFY_DISC: u32 = 0x40; // the target may disconnect

// Opcodes the disks implement
export const OP_TEST_UNIT_READY: u32 = 0x00;
export const OP_REQUEST_SENSE: u32 = 0x03;
export const OP_INQUIRY: u32 = 0x12;
export const OP_READ_CAPACITY_10: u32 = 0x25;
export const OP_READ_10: u32 = 0x28;
export const OP_WRITE_10: u32 = 0x2a;
export const OP_SYNCHRONIZE_CACHE_10: u32 = 0x35;

// Sense keys and the additional sense codes we report (SPC-2)
export const SK_NO_SENSE: u32 = 0x0;
export const SK_NOT_READY: u32 = 0x2;
export const SK_MEDIUM_ERROR: u32 = 0x3;
export const SK_HARDWARE_ERROR: u32 = 0x4;
export const SK_ILLEGAL_REQUEST: u32 = 0x5;
export const SK_UNIT_ATTENTION: u32 = 0x6;
export const SK_ABORTED_COMMAND: u32 = 0xb;
export const ASC_INVALID_OPCODE: u32 = 0x20; // ASCQ 00: INVALID COMMAND OPERATION CODE
export const ASC_LBA_OUT_OF_RANGE: u32 = 0x21; // ASCQ 00: LOGICAL BLOCK ADDRESS OUT OF RANGE
export const ASC_INVALID_FIELD_IN_CDB: u32 = 0x24; // ASCQ 00
export const ASC_LUN_NOT_SUPPORTED: u32 = 0x25; // ASCQ 00: LOGICAL UNIT NOT SUPPORTED
export const ASC_UNRECOVERED_READ_ERROR: u32 = 0x11; // ASCQ 00
export const ASC_WRITE_ERROR: u32 = 0x0c; // ASCQ 00
export const ASC_POWER_ON_RESET: u32 = 0x29; // ASCQ 00
export const ASC_OVERLAPPED_COMMANDS: u32 = 0x4e; // ASCQ 00: OVERLAPPED COMMANDS ATTEMPTED (SPC-2 annex D)

/** Fixed-format sense data (response code 70h): 18 bytes (SPC-2 7.20.2). */
export const SENSE_FIXED_LEN: u32 = 18;
