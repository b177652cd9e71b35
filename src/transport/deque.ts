/**
 * A double-ended queue on a ring buffer: O(1) at both ends (Array#shift copies on large arrays).
 * The in-process transport keeps each queue's ready messages in one, pushing at the tail and
 * putting requeued deliveries back at the head.
 */
export class Deque<T> {
  // The capacity stays a power of two, so an index wraps with a mask instead of a division.
  #buf: (T | undefined)[] = new Array<T | undefined>(16);
  #head = 0;
  #size = 0;

  /** How many values it holds. */
  get length(): number {
    return this.#size;
  }

  /** Adds a value at the tail. */
  push(value: T): void {
    this.#growIfFull();
    this.#buf[(this.#head + this.#size) & (this.#buf.length - 1)] = value;
    this.#size++;
  }

  /** Adds a value at the head. */
  unshift(value: T): void {
    this.#growIfFull();
    this.#head = (this.#head - 1 + this.#buf.length) & (this.#buf.length - 1);
    this.#buf[this.#head] = value;
    this.#size++;
  }

  /** The value at the head, left in place; undefined when empty. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#buf[this.#head];
  }

  /** Removes and returns the value at the head; undefined when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const value = this.#buf[this.#head];
    // Cleared so the buffer does not keep a removed message alive.
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#buf.length - 1);
    this.#size--;
    return value;
  }

  /** Removes every value and gives the grown buffer back. */
  clear(): void {
    this.#buf = new Array<T | undefined>(16);
    this.#head = 0;
    this.#size = 0;
  }

  #growIfFull(): void {
    if (this.#size < this.#buf.length) return;
    const next = new Array<T | undefined>(this.#buf.length * 2);
    for (let n = 0; n < this.#size; n++) next[n] = this.#buf[(this.#head + n) & (this.#buf.length - 1)];
    this.#buf = next;
    this.#head = 0;
  }
}
