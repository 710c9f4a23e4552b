// The AceNIC driver (guest-lib/drivers/acenic.ts) as HiTactix's NetDevice: frames of
// two fragments with checksum offload; the driver's TX-done upcall becomes the
// distribution thread's "transmit space" wakeup.

import { NetDevice, txSpace } from "./netdev";
import { nicTxFree, nicQueue2, nicKick, nicSetTxDone } from "../guest-lib/drivers/acenic";

function txDone(frames: u32, bds: u32): void {
  txSpace();
}

export class AceNicNet extends NetDevice {
  constructor() {
    super();
    nicSetTxDone(txDone);
  }
  checksumOffload(): bool { return true; }
  txFree(): u32 { return nicTxFree() >> 1; } // frames of two fragments
  send2(hdr: usize, hdrLen: u32, pay: usize, payLen: u32): bool {
    return nicQueue2(hdr, hdrLen, pay, payLen, true);
  }
  flush(): void { nicKick(); }
}
