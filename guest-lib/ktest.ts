// In-guest test tables (STYLE.md tier 2): a test guest runs its checks and reports
// each through the console, one line per check, which the host-side test reads:
//   ktest: PASS <name>
//   ktest: FAIL <name>: <detail>
//   ktest: VALUE <name> <number>        a measured figure for the host to judge
//   ktest: DONE <passed> <failed>
//
// Interface: kcheck(name, ok), kcheckEq(name, got, want), kvalue(name, n), kdone().

import { cputs, cputu, cputx, kprint } from "./console";

let passed: u32 = 0;
let failed: u32 = 0;

export function kcheck(name: string, ok: bool): bool {
  if (ok) { passed++; cputs("ktest: PASS "); kprint(name); }
  else { failed++; cputs("ktest: FAIL "); kprint(name); }
  return ok;
}

export function kcheckEq(name: string, got: u64, want: u64): bool {
  if (got == want) { passed++; cputs("ktest: PASS "); kprint(name); return true; }
  failed++;
  cputs("ktest: FAIL "); cputs(name); cputs(": got "); cputu(got); cputs(" ("); cputx(<u32>got);
  cputs("), want "); cputu(want); cputs(" ("); cputx(<u32>want); kprint(")");
  return false;
}

export function kvalue(name: string, n: u64): void {
  cputs("ktest: VALUE "); cputs(name); cputs(" "); cputu(n); kprint("");
}

export function kdone(): void {
  cputs("ktest: DONE "); cputu(passed); cputs(" "); cputu(failed); kprint("");
}
