/** The torchinfo-style table of the model. */
import { memo } from 'react';
import { formatCount, formatShape, formatTotalMacs, isComplete, type ModelSummary } from '../../core/index.ts';

/** Memoised: it stays mounted once shown, and re-rendering a 10,000-row table on every selection cost more than the selection. */
export const Summary = memo(function Summary({ summary, onPick }: { summary: ModelSummary; onPick: (nodeId: string) => void }) {
  return (
    <div className="summary">
      <table aria-label="Model summary">
        <thead>
          <tr>
            <th>Layer</th>
            <th>Op</th>
            <th>Output shape</th>
            <th className="num">Params</th>
            <th className="num">MACs</th>
          </tr>
        </thead>
        <tbody>
          {summary.layers.map((l) => (
            <tr key={l.id} onClick={() => onPick(l.id)}>
              <td>{l.id}</td>
              <td>{l.op}</td>
              <td>{l.outputShape ? formatShape(l.outputShape) : '?'}</td>
              <td className="num">{formatCount(l.params)}</td>
              <td className="num">{l.macs === null ? '–' : formatCount(l.macs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="totals" data-testid="total-params">
        Total params: {isComplete(summary) ? formatCount(summary.totalParams) : `unknown until the errors are fixed (${formatCount(summary.totalParams)} in the layers inferred so far)`}
      </p>
      <p className="totals">
        Trainable params: {formatCount(summary.trainableParams)} · Total MACs: {formatTotalMacs(summary)}
      </p>
    </div>
  );
});
