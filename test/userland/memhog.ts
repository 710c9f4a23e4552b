// Test program: grows its memory until the kernel says no.
//   memhog grow     memory.grow 1 MiB at a time; prints how far it got when a grow
//                   fails (-1), exits 0 (a program that handles the failure)
//   memhog alloc    allocates 1 MiB buffers until the allocator gives up (AssemblyScript
//                   traps: the process dies with a report; the kernel lives on)
import { writeStr } from "../../userland/bsd/lib";

let mode = process.argv.length > 1 ? process.argv[1] : "grow";
let mib = 0;
if (mode == "grow") {
  for (;;) {
    if (memory.grow(16) < 0) break;
    mib++;
  }
  writeStr(1, "memhog: memory.grow refused after " + mib.toString() + " MiB\n");
} else {
  let keep = new Array<ArrayBuffer>();
  for (;;) {
    keep.push(new ArrayBuffer(1 << 20));
    mib++;
    if (mib % 16 == 0) writeStr(1, "memhog: " + mib.toString() + " MiB\n");
  }
}
