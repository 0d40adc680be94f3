// Principal component analysis of hidden-unit activity. Pure functions on plain arrays.

/** Eigen-decomposition of a symmetric matrix (cyclic Jacobi). Returns {values, vectors} sorted by value, descending. */
export function symmetricEigen(matrix, maxSweeps = 60) {
  const n = matrix.length;
  const a = matrix.map((row) => row.slice());
  const v = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p][q] * a[p][q];
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j][j] - a[i][i]);
  return {
    values: order.map((i) => a[i][i]),
    vectors: order.map((i) => v.map((row) => row[i])),
  };
}

/**
 * PCA of the rows of `data` ([N][H]). Returns the first `k` components ([k][H], unit length, sign
 * fixed so that the largest-magnitude entry is positive), their variances, the fraction of variance
 * each explains and the column means.
 */
export function pca(data, k = 3) {
  const n = data.length;
  if (n === 0) throw new Error("pca needs at least one row");
  const h = data[0].length;
  const mean = new Array(h).fill(0);
  for (const row of data) for (let j = 0; j < h; j++) mean[j] += row[j] / n;
  const cov = Array.from({ length: h }, () => new Array(h).fill(0));
  for (const row of data) {
    for (let i = 0; i < h; i++) {
      const di = row[i] - mean[i];
      for (let j = i; j < h; j++) cov[i][j] += di * (row[j] - mean[j]);
    }
  }
  const denom = Math.max(n - 1, 1);
  for (let i = 0; i < h; i++) {
    for (let j = i; j < h; j++) {
      cov[i][j] /= denom;
      cov[j][i] = cov[i][j];
    }
  }
  const { values, vectors } = symmetricEigen(cov);
  const total = values.reduce((s, x) => s + Math.max(x, 0), 0) || 1;
  const kk = Math.min(k, h);
  const components = vectors.slice(0, kk).map((vec) => {
    let big = 0;
    for (const x of vec) if (Math.abs(x) > Math.abs(big)) big = x;
    return big < 0 ? vec.map((x) => -x) : vec;
  });
  const variances = values.slice(0, kk).map((x) => Math.max(x, 0));
  return { components, variances, explained: variances.map((x) => x / total), mean };
}

/** Project rows ([N][H]) onto fitted components: returns [N][k]. */
export function project(data, fit) {
  return data.map((row) => fit.components.map((c) => c.reduce((s, cj, j) => s + cj * (row[j] - fit.mean[j]), 0)));
}

/** Flatten hidden activity [B][T][H] into rows [B*T][H]. */
export function flattenTrials(hidden) {
  const rows = [];
  for (const trial of hidden) for (const step of trial) rows.push(step);
  return rows;
}
