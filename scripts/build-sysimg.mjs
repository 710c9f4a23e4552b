// Builds build/system.img, BSD's system disk: a 64 MiB sparse image holding BSDFS
// (common/bsdfs.ts) with
//   /bin      every build/userland/*.wasm and userland/prebuilt/*.wasm (the C programs)
//             as /bin/NAME (mode 0755)
//   /etc      every file under userland/etc/ (rc, crontab, service configs), mode 0644
//   /var/log  for the daemons' logs
//   /tmp      mode 1777
//   /dev      empty: the kernel provides the device nodes
// Run by `npm run build` after the guests and the host are built (it uses
// dist/host/fs-image.js, which loads build/fstool.wasm: the kernel's own file system).
// Reproducible: the same inputs give the same bytes. Every time stamp is
// SOURCE_DATE_EPOCH (seconds), or 0 when it is not set, and files go in sorted order.
//
//   node scripts/build-sysimg.mjs [OUT] [--userland DIR] [--etc DIR]
//   (defaults: build/system.img, build/userland, userland/etc)
import { readdirSync, readFileSync, statSync, existsSync, mkdirSync } from "node:fs";
import { join, relative, dirname } from "node:path";

const { BsdFs, FileBackend, createImageFile } = await import("../dist/host/fs-image.js");

const SIZE = 64 << 20;
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const userland = option("--userland", "build/userland");
const prebuilt = option("--prebuilt", "userland/prebuilt");
const etcDir = option("--etc", "userland/etc");
const out = args[0] ?? "build/system.img";
const epoch = process.env.SOURCE_DATE_EPOCH;
if (epoch !== undefined && !/^\d+$/.test(epoch)) {
  console.error(`build-sysimg: SOURCE_DATE_EPOCH="${epoch}" is not a whole number of seconds`);
  process.exit(1);
}
const stamp = BigInt(epoch ?? "0") * 1_000_000_000n;

/** Files under dir, recursively, sorted by path (directories first). */
function walk(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) found.push({ path: p, dir: true }, ...walk(p));
    else found.push({ path: p, dir: false });
  }
  return found;
}

mkdirSync(dirname(out), { recursive: true });
createImageFile(out, SIZE, true);
const fs = new BsdFs(new FileBackend(out), { clock: () => stamp });
try {
  fs.mkfs({ zeroed: true, created: stamp });
  fs.mount();
  for (const [path, mode] of [["/bin", 0o755], ["/etc", 0o755], ["/var", 0o755], ["/var/log", 0o755], ["/tmp", 0o1777], ["/dev", 0o755]]) {
    fs.mkdir(path, mode);
  }
  const programs = [];
  for (const dir of [userland, prebuilt]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".wasm")).sort()) programs.push({ name: name.slice(0, -5), path: join(dir, name) });
  }
  programs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const p of programs) fs.writeFile(`/bin/${p.name}`, readFileSync(p.path), 0o755);
  const etc = existsSync(etcDir) ? walk(etcDir) : [];
  for (const f of etc) {
    const target = `/etc/${relative(etcDir, f.path).split("\\").join("/")}`;
    if (f.dir) fs.mkdir(target, 0o755);
    else fs.writeFile(target, readFileSync(f.path), 0o644);
  }
  const check = fs.fsck();
  if (check.problems !== 0) throw new Error(`fsck of the new image: ${check.report.join("; ")}`);
  fs.unmount();
  console.log(`system disk: ${out} (64 MiB sparse), /bin ${programs.length} programs, /etc ${etc.filter((f) => !f.dir).length} files`);
} catch (e) {
  console.error(`build-sysimg: ${e.message}`);
  process.exitCode = 1;
} finally {
  fs.release();
}
