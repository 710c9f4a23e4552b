// The AceNIC's serial EEPROM: a 2-wire (I2C) EEPROM of 8 KiB with two address bytes,
// device address A0 (write) / A1 (read), as on the Tigon boards, where the station
// address lives (0x8C-0x93; common/acenic-regs.ts EEPROM_MAC_OFF). The host bit-bangs it
// through the NIC's LocalCtrl pins (devices/acenic.ts passes the pin changes on), as
// Linux's read_eeprom_byte does. A separate chip on its own data sheet, so a file of its
// own, as QEMU keeps eeprom93xx.c apart from the NICs that carry one.
//
// What it models: START and STOP (SDA falling / rising while SCL is high), bits sampled
// on SCL rising edges and changed after falling edges, ACK of each byte it receives,
// random reads (device, two address bytes, repeated START, device | 1) and sequential
// reads that advance the address until the master NACKs, byte writes (no programming
// delay). Not modelled: page writes' wrap at a page boundary, write protect, the
// programming time (acknowledge polling). Sources: DEVICES-REF.md B ("I2C EEPROM (A0/A1,
// 2 address bytes, ACK = DIN low)"), Linux acenic.c read_eeprom_byte.
//
// Interface:
//   new I2cEeprom(bytes, device)   contents erased (0xFF)
//   data                           the non-volatile contents
//   sda                            the level the EEPROM drives on SDA (1 = released)
//   edge(oldScl, oldSda, scl, sda) the bus lines changed (SDA as the wire carries it)
//   reset()                        bus side idle (the contents stay)

const IDLE = 0;
const RECV = 1;
const ACK_OUT = 2;
const SEND = 3;
const ACK_IN = 4;
const PH_DEVSEL = 0;
const PH_ADDR_HI = 1;
const PH_ADDR_LO = 2;
const PH_WRITE = 3;

export class I2cEeprom {
  /** Non-volatile contents. */
  readonly data: Uint8Array;
  /** Level the EEPROM drives on SDA (1 = released). */
  sda = 1;
  private state = IDLE;
  private phase = PH_DEVSEL;
  private nextPhase = PH_DEVSEL;
  private bits = 0;
  private shift = 0;
  private addr = 0;
  private reading = false;
  private masterAck = false;

  constructor(bytes: number, private readonly device: number) {
    this.data = new Uint8Array(bytes).fill(0xff);
  }

  reset(): void {
    this.state = IDLE;
    this.sda = 1;
  }

  /** SCL and SDA before and after a change of the pins (SDA: the wire's level). */
  edge(oldScl: boolean, oldSda: number, scl: boolean, sda: number): void {
    if (oldScl && scl) {
      if (oldSda === 1 && sda === 0) this.start();
      else if (oldSda === 0 && sda === 1) this.stop();
    } else if (!oldScl && scl) this.rise(sda);
    else if (oldScl && !scl) this.fall();
  }

  private start(): void {
    this.state = RECV;
    this.phase = PH_DEVSEL;
    this.bits = this.shift = 0;
    this.sda = 1;
  }

  private stop(): void {
    this.state = IDLE;
    this.sda = 1;
  }

  private rise(sda: number): void {
    if (this.state === RECV) {
      this.shift = ((this.shift << 1) | sda) & 0xff;
      this.bits++;
    } else if (this.state === SEND) this.bits++;
    else if (this.state === ACK_IN) this.masterAck = sda === 0;
  }

  private fall(): void {
    switch (this.state) {
      case RECV:
        if (this.bits === 8) this.byte(this.shift);
        return;
      case ACK_OUT:
        this.sda = 1;
        if (this.phase === PH_DEVSEL && this.reading) return this.load();
        this.phase = this.nextPhase;
        this.state = RECV;
        this.bits = this.shift = 0;
        return;
      case SEND:
        if (this.bits < 8) this.sda = (this.shift >> (7 - this.bits)) & 1;
        else {
          this.sda = 1;
          this.state = ACK_IN;
        }
        return;
      case ACK_IN:
        if (this.masterAck) this.load();
        else this.state = IDLE; // NACK: the master ends with STOP
        return;
    }
  }

  /** A byte received from the master: acknowledge it (drive SDA low next clock). */
  private byte(b: number): void {
    const mask = this.data.length - 1;
    switch (this.phase) {
      case PH_DEVSEL:
        if ((b & 0xfe) !== this.device) {
          this.state = IDLE; // not us: no ACK
          return;
        }
        this.reading = (b & 1) !== 0;
        this.nextPhase = PH_ADDR_HI;
        break;
      case PH_ADDR_HI:
        this.addr = ((b << 8) | (this.addr & 0xff)) & mask;
        this.nextPhase = PH_ADDR_LO;
        break;
      case PH_ADDR_LO:
        this.addr = ((this.addr & 0xff00) | b) & mask;
        this.nextPhase = PH_WRITE;
        break;
      default:
        this.data[this.addr] = b; // byte write (no programming delay modelled)
        this.addr = (this.addr + 1) & mask;
        this.nextPhase = PH_WRITE;
    }
    this.sda = 0;
    this.state = ACK_OUT;
  }

  /** Start sending the byte at the current address (sequential reads advance). */
  private load(): void {
    this.shift = this.data[this.addr];
    this.addr = (this.addr + 1) & (this.data.length - 1);
    this.bits = 0;
    this.state = SEND;
    this.sda = (this.shift >> 7) & 1;
  }
}
