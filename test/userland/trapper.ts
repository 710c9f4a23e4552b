// Test program: faults on purpose.
//   trapper unreachable    executes `unreachable`
//   trapper stack          recurses without end (the host's stack overflows)
//   trapper divide         an integer division by zero
import { writeStr } from "../../userland/bsd/lib";

function deep(n: i32): i32 {
  let a = new StaticArray<i32>(4);
  a[0] = n;
  return deep(n + 1) + a[0];
}

let mode = process.argv.length > 1 ? process.argv[1] : "unreachable";
writeStr(1, "trapper: " + mode + "\n");
if (mode == "stack") writeStr(1, deep(0).toString());
else if (mode == "divide") { let z = <i32>process.argv.length - 2; writeStr(1, (1 / z).toString()); }
else unreachable();
