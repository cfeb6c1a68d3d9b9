import { expect, test } from "bun:test";
import { DeliveredSeqs, sharedAckedSeqs } from "../../src/bus/delivered-seqs.ts";

test("held sequences are held until acknowledged or released", () => {
  const seqs = new DeliveredSeqs(10);
  seqs.hold(7);
  seqs.hold(8);
  expect([seqs.isHeld(7), seqs.wasAcked(7)]).toEqual([true, false]);
  seqs.acked(7);
  expect([seqs.isHeld(7), seqs.wasAcked(7)]).toEqual([false, true]);
  seqs.released(8);
  expect([seqs.isHeld(8), seqs.wasAcked(8)]).toEqual([false, false]);
});

test("the oldest acknowledged sequences are forgotten first, and a repeated ack takes no room", () => {
  const seqs = new DeliveredSeqs(3);
  for (const seq of [1, 2, 2, 3, 4]) seqs.acked(seq);
  expect([1, 2, 3, 4].map((s) => seqs.wasAcked(s))).toEqual([false, true, true, true]);
  seqs.acked(5);
  seqs.acked(6);
  expect([2, 3, 4, 5, 6].map((s) => seqs.wasAcked(s))).toEqual([false, false, true, true, true]);
});

test("a shared table tells every consumer of a type what any of them acknowledged, one sequence per slot", () => {
  const table = sharedAckedSeqs(8);
  const a = new DeliveredSeqs(10, table);
  const b = new DeliveredSeqs(10, table);
  a.acked(3);
  b.acked(12);
  expect([a.wasAcked(3), b.wasAcked(3), a.wasAcked(12), b.wasAcked(12)]).toEqual([true, true, true, true]);
  // 11 lands on 3's slot (11 % 8): 3 is forgotten, and a held sequence stays with its holder.
  b.acked(11);
  expect([a.wasAcked(3), a.wasAcked(11)]).toEqual([false, true]);
  a.hold(20);
  expect([a.isHeld(20), b.isHeld(20), b.wasAcked(20)]).toEqual([true, false, false]);
  // The table outlives its readers, as it outlives a restarted batch worker.
  expect(new DeliveredSeqs(10, table).wasAcked(12)).toBe(true);
});
