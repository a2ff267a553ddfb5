/**
 * Protection domains: the kernel object behind an address space. It owns the page table the
 * pager fills and the threads that run in it. Core's PD session wraps it with quota and a
 * region map describing the address-space layout.
 */
import { PageTable } from '../hw/page_table.js';
import { Thread } from './thread.js';

/** A kernel protection domain. */
export class ProtectionDomain {
  readonly pageTable: PageTable;
  readonly threads: Thread[] = [];

  constructor(
    readonly id: number,
    /** Genode-style label, e.g. `init -> app`. */
    readonly label: string,
    pageSizesLog2: readonly number[],
    /** Address-space identifier for tagged TLBs. */
    readonly asid = id,
  ) {
    this.pageTable = new PageTable(pageSizesLog2);
  }

  /** Creates a thread in this domain. */
  addThread(id: number, name: string, cpu = 0): Thread {
    const t = new Thread(id, name, this, cpu);
    this.threads.push(t);
    return t;
  }

  toString(): string {
    return `pd '${this.label}' (asid ${this.asid}, ${this.threads.length} threads, ${this.pageTable.size} mappings)`;
  }
}
