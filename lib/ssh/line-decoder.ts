/** Framing shared by the broker's two wires (broker-protocol.ts, provision-wire.ts); no imports, so the thin provisioner client can load it. */

/** Splits a byte stream into lines; bytes are kept until their line ends (a chunk may end inside a UTF-8 character). */
export class LineDecoder {
  private pending = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    let data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const lines: string[] = [];
    for (let end = data.indexOf(0x0a); end !== -1; end = data.indexOf(0x0a)) {
      lines.push(data.subarray(0, end).toString("utf8"));
      data = data.subarray(end + 1);
    }
    this.pending = Buffer.from(data);
    return lines;
  }
}
