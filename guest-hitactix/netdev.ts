// The network device as the distribution thread sees it (STYLE.md practice 8): send a
// frame made of a header fragment and a payload fragment (the payload stays where the
// disk put it: zero copy), how many transmit slots are free, and an upcall when slots
// free up. The AceNIC driver implements it; tests implement it with a fake.
//
// Interface: NetDevice.txFree(), NetDevice.send2(hdr, hdrLen, pay, payLen) -> bool
//            (queues the frame), NetDevice.flush() (hands queued frames to the device:
//            one doorbell per burst),
//            setTxSpace(fn): fn is called when transmit slots have been freed.

export abstract class NetDevice {
  /** True when the device computes the IPv4 and UDP checksums (leave both zero). */
  abstract checksumOffload(): bool;
  abstract txFree(): u32;
  /** Queue a frame; it leaves once flush() is called. */
  abstract send2(hdr: usize, hdrLen: u32, pay: usize, payLen: u32): bool;
  /** Hand every queued frame to the device. */
  abstract flush(): void;
}

function nospace(): void {}
export let txSpace: () => void = nospace;
export function setTxSpace(fn: () => void): void {
  txSpace = fn;
}
