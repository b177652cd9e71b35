// Types of dag-layout.js for the unit tests (the browser loads the .js as is; the server never serves .d.ts).

export interface DagNode { key: string; dependsOn?: string[] | null }
export interface DagEdge { from: string; to: string }
export interface DagBox { width: number; height: number; columnGap: number; rowGap: number; margin: number }

export function dagEdges(nodes: readonly DagNode[]): DagEdge[];
export function rankNodes(nodes: readonly DagNode[]): Map<string, number>;
export function dagLayers(nodes: readonly DagNode[]): string[][];
export const DAG_BOX: DagBox;
export function layoutDag(nodes: readonly DagNode[], box?: DagBox): {
  width: number;
  height: number;
  boxes: Map<string, { x: number; y: number }>;
  edges: (DagEdge & { path: string })[];
};
