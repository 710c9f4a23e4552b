// Test program: writes files and makes each durable before saying so.
//   fswriter DIR COUNT SIZE    (DIR is made if missing) for i in 0..COUNT-1: write DIR/fI (SIZE bytes of a
//                              pattern of i), fsync it, then print "synced I"
import { open, close, writeBytes, writeStr, errText, O_WRITE, O_CREATE, O_TRUNC } from "../../userland/bsd/lib";
import { fd_sync, path_create_directory } from "bindings/wasi_snapshot_preview1";

let argv = process.argv;
let dir = argv[1];
let count = I32.parseInt(argv[2]);
let size = I32.parseInt(argv[3]);
let buf = new ArrayBuffer(size);
let d = String.UTF8.encode(dir.startsWith("/") ? dir.substring(1) : dir);
path_create_directory(3, changetype<usize>(d), <usize>d.byteLength); // EEXIST is fine
for (let i = 0; i < count; i++) {
  let p = changetype<usize>(buf);
  for (let k = 0; k < size; k++) store<u8>(p + <usize>k, <u8>(k * 31 + i * 7));
  let fd = open(dir + "/f" + i.toString(), O_WRITE | O_CREATE | O_TRUNC);
  if (fd < 0) { writeStr(2, "fswriter: " + errText(fd) + "\n"); process.exit(1); }
  writeBytes(fd, p, <usize>size);
  let e = fd_sync(<u32>fd);
  close(fd);
  if (e != 0) { writeStr(2, "fswriter: fsync: error " + e.toString() + "\n"); process.exit(1); }
  writeStr(1, "synced " + i.toString() + "\n");
}
