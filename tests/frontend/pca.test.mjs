import assert from "node:assert/strict";
import { test } from "node:test";
import { flattenTrials, pca, project, symmetricEigen } from "../../frontend/scripts/logic/pca.js";

const close = (a, b, tol = 1e-6) => assert.ok(Math.abs(a - b) < tol, `${a} != ${b}`);

test("eigen of a diagonal matrix", () => {
  const { values, vectors } = symmetricEigen([[1, 0], [0, 3]]);
  close(values[0], 3);
  close(values[1], 1);
  close(Math.abs(vectors[0][1]), 1);
});

test("eigen reconstructs a symmetric matrix", () => {
  const m = [[4, 1, 2], [1, 3, 0.5], [2, 0.5, 5]];
  const { values, vectors } = symmetricEigen(m);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += values[k] * vectors[k][i] * vectors[k][j];
      close(s, m[i][j], 1e-9);
    }
  }
});

test("pca finds the direction of a line", () => {
  const rows = [];
  for (let i = 0; i < 50; i++) {
    const t = i / 10 - 2.5;
    rows.push([1 + t * 3, 2 + t * 4, 0.001 * Math.sin(i)]);
  }
  const fit = pca(rows, 2);
  close(fit.components[0][0], 0.6, 1e-4);
  close(fit.components[0][1], 0.8, 1e-4);
  assert.ok(fit.explained[0] > 0.999);
  const proj = project(rows, fit);
  assert.equal(proj.length, 50);
  assert.equal(proj[0].length, 2);
  const mean0 = proj.reduce((s, r) => s + r[0], 0) / 50;
  close(mean0, 0, 1e-9);
});

test("components are orthonormal", () => {
  const rows = Array.from({ length: 40 }, (_, i) => [Math.sin(i), Math.cos(i * 0.7), Math.sin(i * 1.3) + i * 0.01, (i % 5) * 0.2]);
  const fit = pca(rows, 4);
  for (let a = 0; a < 4; a++) {
    for (let b = 0; b < 4; b++) {
      const dot = fit.components[a].reduce((s, x, j) => s + x * fit.components[b][j], 0);
      close(dot, a === b ? 1 : 0, 1e-8);
    }
  }
  const total = fit.explained.reduce((s, x) => s + x, 0);
  close(total, 1, 1e-9);
});

test("flattenTrials", () => {
  assert.deepEqual(flattenTrials([[[1, 2], [3, 4]], [[5, 6]]]), [[1, 2], [3, 4], [5, 6]]);
});
