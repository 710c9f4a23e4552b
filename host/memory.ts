// Physical memory of the board: one WebAssembly.Memory that both guests import and
// that devices read and write directly (DMA). Fixed size: initial = maximum, so its
// buffer never moves and the typed-array views below stay valid for the board's life.
//
// Interface:
//   new PhysMem(bytes)       allocate (a multiple of 64 KiB)
//   u8, dv                   views over all of RAM (little-endian accesses via dv)
//   inRam(addr, len)         whether [addr, addr+len) is RAM
//   dmaCheck(addr, len, who) throws DmaFault if not; devices turn that into their
//                            own bus-fault status (never a host crash)

export class DmaFault extends Error {
  constructor(readonly who: string, readonly addr: number, readonly len: number) {
    super(`${who}: DMA outside RAM at 0x${addr.toString(16)} (+${len} bytes)`);
  }
}

export class PhysMem {
  readonly memory: WebAssembly.Memory;
  readonly u8: Uint8Array;
  readonly dv: DataView;
  readonly size: number;

  constructor(bytes: number) {
    if (bytes <= 0 || bytes % 65536 !== 0) throw new Error(`memory size ${bytes} is not a positive multiple of 64 KiB`);
    const pages = bytes / 65536;
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.size = bytes;
    this.u8 = new Uint8Array(this.memory.buffer);
    this.dv = new DataView(this.memory.buffer);
  }

  inRam(addr: number, len: number): boolean {
    return Number.isInteger(addr) && Number.isInteger(len) && addr >= 0 && len >= 0 && addr + len <= this.size;
  }

  dmaCheck(addr: number, len: number, who: string): void {
    if (!this.inRam(addr, len)) throw new DmaFault(who, addr, len);
  }
}
