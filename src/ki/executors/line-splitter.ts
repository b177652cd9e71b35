import { StringDecoder } from 'node:string_decoder';

/**
 * Cuts a byte stream into lines as they complete (each with its `\n`), decoding UTF-8 across
 * chunk boundaries, so a command's stdout can be streamed line by line. A line longer than
 * `maxLineChars` is passed on in pieces rather than held back.
 */
export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';

  constructor(private readonly onLine: (line: string) => void, private readonly maxLineChars = 16_384) {}

  push(chunk: Buffer): void {
    this.#take(this.#decoder.write(chunk));
  }

  /** Passes on what is left after the last newline. */
  end(): void {
    this.#take(this.#decoder.end());
    if (this.#partial !== '') this.onLine(this.#partial);
    this.#partial = '';
  }

  #take(text: string): void {
    let rest = this.#partial + text;
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
      this.onLine(rest.slice(0, nl + 1));
      rest = rest.slice(nl + 1);
    }
    while (rest.length > this.maxLineChars) {
      this.onLine(rest.slice(0, this.maxLineChars));
      rest = rest.slice(this.maxLineChars);
    }
    this.#partial = rest;
  }
}
