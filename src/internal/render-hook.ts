import { ApiObject } from 'cdk8s';

/** A rendered manifest, as `ApiObject.toJson()` returns it. */
export type RenderedManifest = Record<string, unknown>;

/** An edit of a rendered manifest (in place). */
export type RenderEdit = (manifest: RenderedManifest) => void;

const EDITS = new WeakMap<ApiObject, RenderEdit[]>();

/**
 * Runs `edit` on the object's manifest each time it is rendered (`toJson()`,
 * which `app.synth()`, `Testing.synth()` and `ErpSynth` all call), after
 * cdk8s' JSON patches and its typed serialization: an edit sees the final
 * plain JSON, so it can find what it changes by name (a container among the
 * containers as rendered) instead of by a position fixed at construction.
 */
export function onRender(obj: ApiObject, edit: RenderEdit): void {
  let edits = EDITS.get(obj);
  if (!edits) {
    const all: RenderEdit[] = [];
    const render = obj.toJson.bind(obj);
    obj.toJson = () => {
      const manifest = render();
      for (const e of all) e(manifest);
      return manifest;
    };
    EDITS.set(obj, all);
    edits = all;
  }
  edits.push(edit);
}
