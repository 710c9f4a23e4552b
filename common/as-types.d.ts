// AssemblyScript's integer types, as TypeScript sees them: numbers. The files in
// common/ compile as both languages, and their constants carry an explicit type
// (`export const DSP: u32 = 0x2c;`): AssemblyScript infers i64 for an untyped literal of
// 2^31 or more (0x80000000, 0x98080000), which a u32 expression does not take. To
// AssemblyScript these are its own types (this file is never compiled by asc); to
// TypeScript, here, they are plain numbers.
type u8 = number;
type u16 = number;
type u32 = number;
type i32 = number;
