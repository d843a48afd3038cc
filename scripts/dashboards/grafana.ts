/**
 * A small typed builder for the Grafana dashboard JSON the project ships: just the panel types and
 * options we use, with the conventions of the best community dashboards built in (a datasource
 * variable, job/instance from label_values, units, descriptions, stable uids).
 */
export const datasourceRef = { type: 'prometheus', uid: '${datasource}' } as const;

export interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly legendFormat?: string;
  readonly instant?: boolean;
  readonly range?: boolean;
  readonly format?: 'time_series' | 'table';
  /** Whether a host with planted findings must return at least one series (checked by a test). */
  readonly expectData?: boolean;
}

export interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}

export interface Panel {
  id?: number;
  type: string;
  title: string;
  description?: string;
  gridPos: GridPos;
  datasource?: typeof datasourceRef;
  targets?: Target[];
  fieldConfig?: { defaults: Record<string, unknown>; overrides: unknown[] };
  options?: Record<string, unknown>;
  transformations?: unknown[];
  collapsed?: boolean;
  panels?: Panel[];
}

export interface QueryOptions {
  legend?: string;
  instant?: boolean;
  table?: boolean;
  expectData?: boolean;
}

export function query(expr: string, options: QueryOptions = {}): Omit<Target, 'refId'> {
  return {
    expr,
    ...(options.legend !== undefined ? { legendFormat: options.legend } : {}),
    ...(options.instant ? { instant: true, range: false } : { range: true }),
    ...(options.table ? { format: 'table' as const } : {}),
    ...(options.expectData ? { expectData: true } : {}),
  };
}

function targets(queries: Array<Omit<Target, 'refId'>>): Target[] {
  return queries.map((q, i) => ({ refId: String.fromCharCode(65 + i), ...q }));
}

interface PanelOptions {
  title: string;
  description: string;
  unit?: string;
  queries: Array<Omit<Target, 'refId'>>;
  width?: number;
  height?: number;
  thresholds?: Array<{ value: number | null; color: string }>;
  min?: number;
  decimals?: number;
}

const defaultThresholds = [
  { value: null, color: 'green' },
  { value: 1, color: 'red' },
];

function base(type: string, o: PanelOptions): Panel {
  return {
    type,
    title: o.title,
    description: o.description,
    gridPos: { h: o.height ?? 8, w: o.width ?? 12, x: 0, y: 0 },
    datasource: datasourceRef,
    targets: targets(o.queries),
    fieldConfig: {
      defaults: {
        unit: o.unit ?? 'short',
        ...(o.min !== undefined ? { min: o.min } : {}),
        ...(o.decimals !== undefined ? { decimals: o.decimals } : {}),
        thresholds: { mode: 'absolute', steps: o.thresholds ?? defaultThresholds },
        color: { mode: o.thresholds || type === 'stat' ? 'thresholds' : 'palette-classic' },
      },
      overrides: [],
    },
  };
}

export function stat(o: PanelOptions): Panel {
  return {
    ...base('stat', { width: 6, height: 4, ...o }),
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'background',
      graphMode: 'none',
      textMode: 'value_and_name',
    },
  };
}

export function timeseries(o: PanelOptions & { stack?: boolean; bars?: boolean }): Panel {
  const panel = base('timeseries', o);
  panel.fieldConfig!.defaults.custom = {
    drawStyle: o.bars ? 'bars' : 'line',
    fillOpacity: o.stack || o.bars ? 60 : 10,
    stacking: { mode: o.stack ? 'normal' : 'none', group: 'A' },
    showPoints: 'never',
  };
  panel.options = {
    legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] },
    tooltip: { mode: 'multi', sort: 'desc' },
  };
  return panel;
}

export interface TableOptions extends PanelOptions {
  /** Columns to keep, in order, with their display names. */
  columns: Record<string, string>;
  /** Column → data link (Grafana URL template). */
  links?: Record<string, { title: string; url: string }>;
  /** Column → unit, where it differs from the panel's. */
  units?: Record<string, string>;
  sortBy?: string;
}

export function table(o: TableOptions): Panel {
  const panel = base('table', { width: 24, height: 9, ...o });
  panel.options = {
    showHeader: true,
    cellHeight: 'sm',
    footer: { show: false },
    ...(o.sortBy ? { sortBy: [{ displayName: o.columns[o.sortBy] ?? o.sortBy, desc: true }] } : {}),
  };
  const indexByName: Record<string, number> = {};
  const renameByName: Record<string, string> = {};
  Object.entries(o.columns).forEach(([field, name], i) => {
    indexByName[field] = i;
    renameByName[field] = name;
  });
  panel.transformations = [
    ...(o.queries.length > 1 ? [{ id: 'merge', options: {} }] : []),
    {
      id: 'organize',
      options: {
        excludeByName: { Time: true, __name__: true },
        indexByName,
        renameByName,
        includeByName: Object.fromEntries(Object.keys(o.columns).map((c) => [c, true])),
      },
    },
  ];
  panel.fieldConfig!.overrides = [
    ...Object.entries(o.links ?? {}).map(([field, link]) => ({
      matcher: { id: 'byName', options: o.columns[field] ?? field },
      properties: [{ id: 'links', value: [{ title: link.title, url: link.url }] }],
    })),
    ...Object.entries(o.units ?? {}).map(([field, unit]) => ({
      matcher: { id: 'byName', options: o.columns[field] ?? field },
      properties: [{ id: 'unit', value: unit }],
    })),
  ];
  return panel;
}

export function row(title: string, collapsed = false): Panel {
  return { type: 'row', title, gridPos: { h: 1, w: 24, x: 0, y: 0 }, collapsed, panels: [] };
}

/** Place panels left to right, wrapping at 24 columns, and number them. */
export function layout(panels: Panel[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return panels.map((panel, i) => {
    const { w, h } = panel.gridPos;
    if (panel.type === 'row' || x + w > 24) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    const placed = { ...panel, id: i + 1, gridPos: { w, h, x, y } };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    if (panel.type === 'row') {
      y += h;
      x = 0;
      rowHeight = 0;
    }
    return placed;
  });
}

export interface DashboardOptions {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  panels: Panel[];
  instanceMulti: boolean;
  links?: unknown[];
}

export function dashboard(o: DashboardOptions): Record<string, unknown> {
  const variableQuery = (q: string) => ({ query: q, refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 });
  return {
    uid: o.uid,
    title: o.title,
    description: o.description,
    tags: o.tags,
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    timezone: 'browser',
    links: o.links ?? [],
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
          refresh: 1,
          regex: '',
          options: [],
        },
        {
          name: 'job',
          label: 'Job',
          type: 'query',
          datasource: datasourceRef,
          definition: 'label_values(hostguard_build_info, job)',
          query: variableQuery('label_values(hostguard_build_info, job)'),
          refresh: 2,
          includeAll: false,
          multi: false,
          sort: 1,
          current: {},
          options: [],
          hide: 0,
        },
        {
          name: 'instance',
          label: 'Instance',
          type: 'query',
          datasource: datasourceRef,
          definition: 'label_values(hostguard_build_info{job="$job"}, instance)',
          query: variableQuery('label_values(hostguard_build_info{job="$job"}, instance)'),
          refresh: 2,
          includeAll: o.instanceMulti,
          multi: o.instanceMulti,
          ...(o.instanceMulti ? { allValue: '.+' } : {}),
          sort: 1,
          current: {},
          options: [],
          hide: 0,
        },
      ],
    },
    annotations: { list: [] },
    panels: layout(o.panels),
  };
}
