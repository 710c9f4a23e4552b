// AssemblyScript's integer types as TypeScript sees them, so that common/*.ts files
// can carry AS types and compile as both languages (tsc reads this file; asc never
// does, it has the real types). A cast such as `<u64>x` is a conversion in AS and a
// no-op in TS; code shared this way keeps every value below 2^53 and never relies on
// 32-bit wrap-around (see the rules at the top of common/sfs.ts).
declare type i32 = number;
declare type u32 = number;
declare type u64 = number;
declare type bool = boolean;
