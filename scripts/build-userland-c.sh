#!/usr/bin/env bash
# Builds the third-party C userland (third_party/) for WASI preview 1 with Debian's
# clang, lld and wasi-libc: the sources as their authors wrote them, plus
# userland/c/wasi-compat.c for the few calls WASI lacks (and the header that declares
# them, force-included). The output is deterministic: the same toolchain gives the
# same bytes, which .ci/run checks against the committed userland/prebuilt/.
#
# Usage: scripts/build-userland-c.sh [OUTDIR]      (default: userland/prebuilt)
# Needs: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32
#
# Interface (files written to OUTDIR):
#   bzip2.wasm      bzip2 1.0.8 (third_party/bzip2), the `bzip2` command
#   lz4.wasm        lz4 1.9.4 (third_party/lz4), the `lz4` command
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-userland/prebuilt}"
mkdir -p "$out"

CC="${CC:-clang}"
# No -g, so no paths or build directories end up in the module (only the names
# section, which the CPU's fault reports use). Each program's own -O level below.
common=(
  --target=wasm32-wasi
  -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS
  -Iuserland/c -include wasi-compat.h
)
# --strip-debug: wasi-libc.a carries DWARF with its build paths; the names section stays.
link=(-lwasi-emulated-signal -lwasi-emulated-process-clocks -Wl,--strip-debug)

# bzip2: the objects of bzip2's Makefile target `bzip2` (libbz2 + bzip2.c), at its
# -O2. _FILE_OFFSET_BITS=64 is the Makefile's BIGFILES (off_t is 64-bit on WASI anyway).
bz=third_party/bzip2
"$CC" "${common[@]}" -O2 -D_FILE_OFFSET_BITS=64 \
  $bz/blocksort.c $bz/huffman.c $bz/crctable.c $bz/randtable.c \
  $bz/compress.c $bz/decompress.c $bz/bzlib.c $bz/bzip2.c \
  userland/c/wasi-compat.c "${link[@]}" -o "$out/bzip2.wasm"
echo "userland-c: $out/bzip2.wasm ($(wc -c < "$out/bzip2.wasm") bytes)"

# lz4: programs/Makefile's target `lz4`, every lib/*.c and programs/*.c, at its -O3.
lz=third_party/lz4
"$CC" "${common[@]}" -O3 -I$lz/lib \
  $lz/lib/lz4.c $lz/lib/lz4file.c $lz/lib/lz4frame.c $lz/lib/lz4hc.c $lz/lib/xxhash.c \
  $lz/programs/bench.c $lz/programs/datagen.c $lz/programs/lz4cli.c $lz/programs/lz4io.c \
  userland/c/wasi-compat.c "${link[@]}" -o "$out/lz4.wasm"
echo "userland-c: $out/lz4.wasm ($(wc -c < "$out/lz4.wasm") bytes)"
