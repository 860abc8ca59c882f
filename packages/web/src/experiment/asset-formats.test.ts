import { describe, expect, it } from 'vitest';
import { parseConfusionMatrix, parseCurve } from './asset-formats';

describe('asset formats', () => {
  it('reads a confusion matrix as comet_ml logs it', () => {
    const matrix = parseConfusionMatrix(
      JSON.stringify({
        version: 1,
        title: 'CM',
        labels: ['a', 'b'],
        matrix: [
          [3, 1],
          [0, 4],
        ],
        rowLabel: 'Actual Category',
        columnLabel: 'Predicted Category',
        sampleMatrix: null,
      }),
    );
    expect(matrix).toEqual({
      title: 'CM',
      labels: ['a', 'b'],
      matrix: [
        [3, 1],
        [0, 4],
      ],
      rowLabel: 'Actual Category',
      columnLabel: 'Predicted Category',
    });
    expect(parseConfusionMatrix(JSON.stringify({ matrix: [[1]] }))?.labels).toEqual(['0']);
    expect(parseConfusionMatrix('not json')).toBeNull();
    expect(parseConfusionMatrix('{"matrix": 3}')).toBeNull();
  });

  it('reads a curve and sorts its points by x', () => {
    expect(parseCurve(JSON.stringify({ x: [1, 0, 0.5], y: [1, 0, 0.7], name: 'roc' }))).toEqual({
      name: 'roc',
      x: [0, 0.5, 1],
      y: [0, 0.7, 1],
    });
    expect(parseCurve('{"x": [1]}')).toBeNull();
  });
});
