import { expect, test } from "bun:test";
import { DeliveredSeqs } from "../../src/bus/delivered-seqs.ts";

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
