import { expect, test } from "bun:test";
import { DeliveredSeqs, sharedDeliveredSeqs } from "../../src/bus/delivered-seqs.ts";

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

test("a shared table tells every worker of a type what the others hold and acknowledged, one sequence per slot", () => {
  const buffer = sharedDeliveredSeqs(2, 8);
  const a = new DeliveredSeqs(10, { buffer, worker: 0, slots: 8 });
  const b = new DeliveredSeqs(10, { buffer, worker: 1, slots: 8 });
  a.acked(3);
  b.acked(12);
  expect([a.wasAcked(3), b.wasAcked(3), a.wasAcked(12), b.wasAcked(12)]).toEqual([true, true, true, true]);
  // 11 lands on 3's slot (11 % 8): 3 is forgotten.
  b.acked(11);
  expect([a.wasAcked(3), a.wasAcked(11)]).toEqual([false, true]);
  // Held by a: a holds it itself, b sees it held elsewhere; acknowledged, it is neither.
  a.hold(20);
  expect([a.isHeld(20), a.heldElsewhere(20), b.isHeld(20), b.heldElsewhere(20)]).toEqual([true, false, false, true]);
  a.acked(20);
  expect([b.heldElsewhere(20), b.wasAcked(20)]).toEqual([false, true]);
  // Released (dead-lettered), it is free for anyone.
  a.hold(21);
  a.released(21);
  expect([b.heldElsewhere(21), b.wasAcked(21)]).toEqual([false, false]);
});

test("a hold dies with its worker's thread: the restarted worker's generation makes it count for nothing", () => {
  const buffer = sharedDeliveredSeqs(2, 8);
  const a = new DeliveredSeqs(10, { buffer, worker: 0, slots: 8 });
  const b = new DeliveredSeqs(10, { buffer, worker: 1, slots: 8 });
  a.hold(5);
  b.acked(12);
  expect(b.heldElsewhere(5)).toBe(true);
  // Worker 0 restarts: a new thread, a new generation, on the same table.
  const restarted = new DeliveredSeqs(10, { buffer, worker: 0, slots: 8 });
  expect([b.heldElsewhere(5), restarted.heldElsewhere(5), restarted.isHeld(5)]).toEqual([false, false, false]);
  // What was acknowledged before the restart is still known.
  expect(restarted.wasAcked(12)).toBe(true);
});
