/** Says that the open document's weights file was not opened, before anything runs or is exported with random weights. */
import type { Workspace } from '../workspace.ts';

export function MissingWeightsBanner({ workspace }: { workspace: Workspace }) {
  const { missingWeights, platform, openFiles, dismissMissingWeights } = workspace;
  if (!missingWeights) return null;
  return (
    <div className="banner" role="alert" aria-label="Missing weights">
      This model&apos;s weights file {missingWeights} was not opened: running or exporting it would use fresh random weights.
      <button
        type="button"
        onClick={async () => {
          const files = await platform.open();
          if (files) await openFiles(files);
        }}
      >
        Pick weights file…
      </button>
      <button type="button" onClick={dismissMissingWeights}>
        Use random weights
      </button>
    </div>
  );
}
