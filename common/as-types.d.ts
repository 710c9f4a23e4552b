// AssemblyScript's integer types, as TypeScript sees them: numbers. The files in
// common/ compile as both languages, and their constants carry an explicit type
// (`export const DSP: u32 = 0x2c;`). Untyped, AssemblyScript 0.28 infers a literal's
// type from its value: i32 below 2^31, u32 up to 2^32 (0x80000000, a SCRIPTS opcode),
// i64 above; one register's bits would then be signed and the next unsigned, and an
// expression mixing them would change type. Typed u32, every constant behaves alike
// (test/hw-constants.test.ts checks it). To AssemblyScript these are its own types
// (asc never reads this file); to TypeScript, here, they are plain numbers.
type u8 = number;
type u16 = number;
type u32 = number;
type i32 = number;
type u64 = number;
type bool = boolean;
