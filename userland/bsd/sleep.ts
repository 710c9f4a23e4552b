// sleep: wait SECONDS (a decimal number) of virtual time.
import { sleepNs, writeStr } from "./lib";
let argv = process.argv;
if (argv.length != 2) { writeStr(2, "usage: sleep SECONDS\n"); process.exit(2); }
let s = F64.parseFloat(argv[1]);
if (!(s >= 0)) { writeStr(2, "sleep: bad time " + argv[1] + "\n"); process.exit(2); }
sleepNs(<u64>(s * 1e9));
