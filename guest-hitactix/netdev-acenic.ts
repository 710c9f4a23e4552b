// The AceNIC driver (guest-lib/drivers/acenic.ts) as HiTactix's NetDevice: frames of
// two fragments, with checksum offload unless HiTactix takes the 2002 path; the driver's TX-done upcall becomes the
// distribution thread's "transmit space" wakeup.

import { NetDevice, txSpace } from "./netdev";
import { nicTxFree, nicQueue2, nicKick, nicSetTxDone } from "../guest-lib/drivers/acenic";

function txDone(frames: u32, bds: u32): void {
  txSpace();
}

export class AceNicNet extends NetDevice {
  /** offload: let the NIC fill the IPv4 and UDP checksums (false: the 2002 path). */
  constructor(private offload: bool) {
    super();
    nicSetTxDone(txDone);
  }
  checksumOffload(): bool { return this.offload; }
  txFree(): u32 { return nicTxFree() >> 1; } // frames of two fragments
  send2(hdr: usize, hdrLen: u32, pay: usize, payLen: u32): bool {
    return nicQueue2(hdr, hdrLen, pay, payLen, this.offload);
  }
  flush(): void { nicKick(); }
}
