// The visual builder: the rule tree as nested rows (groups: all/any and NOT; conditions: field,
// the operators its type takes, a value input shaped by the operator), each with what it matches
// and removes from the live count, then the clauses (sort, limit with "selected by", max per
// artist, dedupe, sources). Every edit is a pure function of model.ts; the keys below work from
// anywhere in a row, so the whole tree can be built without a mouse.
import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { Button } from "../../components/Button";
import type { Completion, LimitSpec, NodeCount, ParsedRules, SortKey } from "./api";
import {
  indent,
  insertAfter,
  move,
  newCondition,
  newGroup,
  outdent,
  pathKey,
  paths,
  remove,
  updateCondition,
  updateGroup,
  type BCondition,
  type BGroup,
  type BNode,
  type Operator,
  type Path,
} from "./model";
import { OPERATORS, reshape, shownItem, typedItem, type FieldType, type ValueShape } from "./operators";
import styles from "./Builder.module.css";

export type Clauses = Omit<ParsedRules, "rules">;
type FieldRow = Completion["fields"][number];

export interface BuilderProps {
  tree: BGroup;
  clauses: Clauses;
  onTree: (tree: BGroup) => void;
  onClauses: (clauses: Clauses) => void;
  completion: Completion | undefined;
  counts: Map<string, NodeCount>;
  stale: boolean;
  /** What the server found wrong, by node path ("1.0"). */
  problems: Map<string, string>;
}

export function Builder({ tree, clauses, onTree, onClauses, completion, counts, stale, problems }: BuilderProps) {
  const [focus, setFocus] = useState<Path | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const fields = completion?.fields ?? [];

  useEffect(() => {
    if (focus === null) return;
    root.current?.querySelector<HTMLElement>(`[data-handle="${pathKey(focus)}"]`)?.focus();
  }, [focus, tree]);

  const edit = ([next, at]: [BGroup, Path]) => {
    onTree(next);
    setFocus(at);
  };
  const template = (): BCondition =>
    newCondition({ field: "year", operator: "gte", value: 2000, case_sensitive: false, accent_insensitive: false });

  const onRowKey = (event: KeyboardEvent, path: Path) => {
    const onHandle = (event.target as HTMLElement).dataset.handle !== undefined;
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      const actions: Record<string, () => void> = {
        ArrowUp: () => {
          edit(move(tree, path, -1));
        },
        ArrowDown: () => {
          edit(move(tree, path, 1));
        },
        ArrowRight: () => {
          edit(indent(tree, path));
        },
        ArrowLeft: () => {
          edit(outdent(tree, path));
        },
        Enter: () => {
          edit(insertAfter(tree, path, template()));
        },
        Delete: () => {
          edit(remove(tree, path));
        },
        Backspace: () => {
          edit(remove(tree, path));
        },
      };
      const action = actions[event.key];
      if (action !== undefined) {
        event.preventDefault();
        event.stopPropagation();
        action();
      }
      return;
    }
    if (!onHandle || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (event.key === "Delete" || event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.stopPropagation(); // the rows are nested: the outer rows must not act on it again
    }
    if (event.key === "Delete") {
      event.preventDefault();
      edit(remove(tree, path));
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.preventDefault();
      const all = paths(tree);
      const at = all.findIndex((p) => pathKey(p) === pathKey(path));
      const next = all[at + (event.key === "ArrowUp" ? -1 : 1)];
      if (next !== undefined) setFocus(next);
    }
  };

  const rootCount = counts.get("");
  return (
    <div ref={root} className={styles.builder}>
      <div className={styles.rootBar}>
        <GroupControls
          group={tree}
          label="Tracks matching"
          onChange={(patch) => {
            onTree(updateGroup(tree, [], patch));
          }}
        />
        {rootCount !== undefined ? <CountBadge count={rootCount} stale={stale} root /> : null}
      </div>
      {tree.children.length === 0 ? (
        <p className={styles.empty}>No conditions: every track of the sources matches. Add one below.</p>
      ) : (
        <ul className={styles.tree} aria-label="Conditions">
          {tree.children.map((child, index) => (
            <Row
              key={child.key}
              node={child}
              path={[index]}
              fields={fields}
              completion={completion}
              counts={counts}
              stale={stale}
              problems={problems}
              onKey={onRowKey}
              onEdit={edit}
              onTree={onTree}
              tree={tree}
              template={template}
            />
          ))}
        </ul>
      )}
      <div className={styles.addBar}>
        <Button
          size="sm"
          onClick={() => {
            edit(insertAfter(tree, null, template()));
          }}
        >
          Add condition
        </Button>
        <Button
          size="sm"
          variant="ghost"
          onClick={() => {
            edit(insertAfter(tree, null, newGroup(tree.operator === "and" ? "or" : "and", [template()])));
          }}
        >
          Add group
        </Button>
      </div>
      <p className={styles.keys}>
        Keys in a row: <kbd>Alt</kbd>+<kbd>Enter</kbd> add after, <kbd>Alt</kbd>+<kbd>→</kbd> indent into a group,{" "}
        <kbd>Alt</kbd>+<kbd>←</kbd> outdent, <kbd>Alt</kbd>+<kbd>↑</kbd>/<kbd>↓</kbd> move, <kbd>Alt</kbd>+
        <kbd>Delete</kbd> delete; on a row&apos;s handle, <kbd>↑</kbd>/<kbd>↓</kbd> go to the previous or next row.
      </p>
      <ClausesForm clauses={clauses} onClauses={onClauses} fields={fields} />
    </div>
  );
}

function describe(node: BNode): string {
  if (node.kind === "group") return `${node.negate ? "not " : ""}${node.operator === "and" ? "all of" : "any of"}`;
  return `${node.field} ${OPERATORS[node.operator].text} ${shownItem(node.value)}`.trim();
}

interface RowProps {
  node: BNode;
  path: Path;
  fields: FieldRow[];
  completion: Completion | undefined;
  counts: Map<string, NodeCount>;
  stale: boolean;
  problems: Map<string, string>;
  onKey: (event: KeyboardEvent, path: Path) => void;
  onEdit: (change: [BGroup, Path]) => void;
  onTree: (tree: BGroup) => void;
  tree: BGroup;
  template: () => BCondition;
}

function Row(props: RowProps) {
  const { node, path, counts, stale, onKey, onEdit, tree, template, problems } = props;
  const key = pathKey(path);
  const count = counts.get(key);
  const problem = problems.get(key);
  const problemId = `problem-${key}`;
  const label = `${node.kind === "group" ? "Group" : "Condition"} ${key}: ${describe(node)}`;
  const tools: [string, string, () => void][] = [
    [
      "↑",
      "Move up",
      () => {
        onEdit(move(tree, path, -1));
      },
    ],
    [
      "↓",
      "Move down",
      () => {
        onEdit(move(tree, path, 1));
      },
    ],
    [
      "→",
      "Indent into a group",
      () => {
        onEdit(indent(tree, path));
      },
    ],
    [
      "←",
      "Outdent",
      () => {
        onEdit(outdent(tree, path));
      },
    ],
    [
      "+",
      "Add a condition after",
      () => {
        onEdit(insertAfter(tree, path, template()));
      },
    ],
    [
      "✕",
      "Delete",
      () => {
        onEdit(remove(tree, path));
      },
    ],
  ];
  return (
    <li
      className={styles.row}
      data-path={key}
      onKeyDown={(event) => {
        onKey(event, path);
      }}
    >
      <div className={node.kind === "group" ? styles.groupLine : styles.line}>
        <button
          type="button"
          className={styles.handle}
          data-handle={key}
          aria-label={label}
          aria-describedby={problem !== undefined ? problemId : undefined}
          aria-keyshortcuts="Alt+ArrowUp Alt+ArrowDown Alt+ArrowRight Alt+ArrowLeft Alt+Enter Delete"
        >
          <span aria-hidden="true">⋮⋮</span>
        </button>
        {node.kind === "group" ? (
          <GroupControls
            group={node}
            label={`Group ${key}`}
            onChange={(patch) => {
              props.onTree(updateGroup(tree, path, patch));
            }}
          />
        ) : (
          <ConditionControls {...props} node={node} />
        )}
        {count !== undefined ? <CountBadge count={count} stale={stale} /> : null}
        <span className={styles.tools}>
          {tools.map(([glyph, title, run]) => (
            <button
              key={title}
              type="button"
              className={styles.tool}
              aria-label={`${title}: ${key}`}
              title={title}
              onClick={run}
            >
              <span aria-hidden="true">{glyph}</span>
            </button>
          ))}
        </span>
      </div>
      {problem !== undefined ? (
        <p id={problemId} className={styles.problem}>
          {problem}
        </p>
      ) : null}
      {node.kind === "group" ? (
        <ul className={styles.tree} aria-label={`Group ${key}`}>
          {node.children.map((child, index) => (
            <Row key={child.key} {...props} node={child} path={[...path, index]} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function GroupControls({
  group,
  label,
  onChange,
}: {
  group: BGroup;
  label: string;
  onChange: (patch: Partial<Pick<BGroup, "operator" | "negate">>) => void;
}) {
  const id = useId();
  return (
    <span className={styles.controls}>
      <label className={styles.inline}>
        <input
          type="checkbox"
          checked={group.negate}
          onChange={(event) => {
            onChange({ negate: event.target.checked });
          }}
        />
        NOT
      </label>
      <label htmlFor={id} className="visually-hidden">
        {label}: all or any
      </label>
      <select
        id={id}
        className={styles.select}
        value={group.operator}
        onChange={(event) => {
          onChange({ operator: event.target.value as "and" | "or" });
        }}
      >
        <option value="and">all of these</option>
        <option value="or">any of these</option>
      </select>
    </span>
  );
}

function ConditionControls({ node, path, fields, completion, onTree, tree }: RowProps & { node: BCondition }) {
  const key = pathKey(path);
  const row = fields.find((f) => f.name === node.field);
  const type: FieldType = row?.type ?? "text";
  const operators: Operator[] = row?.operators ?? (Object.keys(OPERATORS) as Operator[]);
  const shape = OPERATORS[node.operator].shape;
  const set = (patch: Partial<BCondition>) => {
    onTree(updateCondition(tree, path, patch));
  };
  const known =
    node.operator === "in_rule" || node.operator === "not_in_rule"
      ? (completion?.rule_sets ?? []).map((r) => r.id)
      : node.field === "track"
        ? (completion?.values.playlists ?? []).map((v) => v.value)
        : (completion?.values[node.field] ?? []).map((v) => v.value);
  const listId = `values-${key}`;
  return (
    <span className={styles.controls}>
      <select
        className={styles.select}
        aria-label={`Field of condition ${key}`}
        value={node.field}
        onChange={(event) => {
          const field = event.target.value;
          const next = fields.find((f) => f.name === field);
          const valid = next?.operators ?? [];
          const operator = valid.includes(node.operator) ? node.operator : (valid[0] ?? node.operator);
          set({ field, operator, value: reshape(node.value, OPERATORS[operator].shape) });
        }}
      >
        {row === undefined ? <option value={node.field}>{node.field}</option> : null}
        {fields.map((f) => (
          <option key={f.name} value={f.name}>
            {f.name === "track" ? "track (playlist, rule)" : f.name}
          </option>
        ))}
      </select>
      <select
        className={styles.select}
        aria-label={`Operator of condition ${key}`}
        value={node.operator}
        onChange={(event) => {
          const operator = event.target.value as Operator;
          set({ operator, value: reshape(node.value, OPERATORS[operator].shape) });
        }}
      >
        {!operators.includes(node.operator) ? (
          <option value={node.operator}>{OPERATORS[node.operator].text}</option>
        ) : null}
        {operators.map((op) => (
          <option key={op} value={op}>
            {OPERATORS[op].text}
          </option>
        ))}
      </select>
      <ValueInput
        key={`${node.key}-${node.operator}`}
        shape={shape}
        type={type}
        value={node.value}
        label={`Value of condition ${key}`}
        listId={known.length > 0 ? listId : undefined}
        onValue={(value) => {
          set({ value });
        }}
      />
      {known.length > 0 ? (
        <datalist id={listId}>
          {known.slice(0, 200).map((v) => (
            <option key={v} value={v} />
          ))}
        </datalist>
      ) : null}
      {type === "text" && shape !== "none" && shape !== "span" ? (
        <label className={styles.inline}>
          <input
            type="checkbox"
            checked={node.case_sensitive}
            onChange={(event) => {
              set({ case_sensitive: event.target.checked });
            }}
          />
          Aa<span className="visually-hidden"> case sensitive ({key})</span>
        </label>
      ) : null}
    </span>
  );
}

function ValueInput({
  shape,
  type,
  value,
  label,
  listId,
  onValue,
}: {
  shape: ValueShape;
  type: FieldType;
  value: unknown;
  label: string;
  listId: string | undefined;
  onValue: (value: unknown) => void;
}) {
  const items = Array.isArray(value) ? (value as unknown[]) : [value];
  const [draft, setDraft] = useState(() =>
    shape === "list" ? items.map(shownItem).join(", ") : shape === "pair" ? "" : shownItem(value),
  );
  const [low, setLow] = useState(() => shownItem(items[0]));
  const [high, setHigh] = useState(() => shownItem(items[1]));
  if (shape === "none") return null;
  if (shape === "pair") {
    return (
      <span className={styles.controls}>
        <input
          className={styles.input}
          aria-label={`${label}, from`}
          value={low}
          onChange={(event) => {
            setLow(event.target.value);
            onValue([typedItem(event.target.value, type), typedItem(high, type)]);
          }}
        />
        <span aria-hidden="true">..</span>
        <input
          className={styles.input}
          aria-label={`${label}, to`}
          value={high}
          onChange={(event) => {
            setHigh(event.target.value);
            onValue([typedItem(low, type), typedItem(event.target.value, type)]);
          }}
        />
      </span>
    );
  }
  if (type === "bool" && shape === "scalar") {
    return (
      <select
        className={styles.select}
        aria-label={label}
        value={String(value)}
        onChange={(event) => {
          onValue(event.target.value === "true");
        }}
      >
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  }
  return (
    <input
      className={styles.input}
      aria-label={
        shape === "list" ? `${label} (comma-separated)` : shape === "span" ? `${label} (e.g. 30d, 2w, 6mo)` : label
      }
      list={listId}
      value={draft}
      placeholder={shape === "span" ? "30d" : shape === "list" ? "a, b" : type === "date" ? "2020-01-01" : ""}
      onChange={(event) => {
        const text = event.target.value;
        setDraft(text);
        if (shape === "list") {
          onValue(
            text
              .split(",")
              .map((item) => item.trim())
              .filter((item) => item !== "")
              .map((item) => typedItem(item, type)),
          );
        } else if (shape === "span" || shape === "ref") {
          onValue(text.trim());
        } else {
          onValue(typedItem(text, type));
        }
      }}
    />
  );
}

function CountBadge({ count, stale, root = false }: { count: NodeCount; stale: boolean; root?: boolean }) {
  const effect =
    count.removes > 0
      ? `removes ${count.removes.toLocaleString()}`
      : count.adds > 0
        ? `adds ${count.adds.toLocaleString()}`
        : null;
  return (
    <span className={[styles.badge, stale ? styles.stale : ""].join(" ")} data-testid={`count-${count.path}`}>
      {root ? `${count.matches.toLocaleString()} match` : `matches ${count.matches.toLocaleString()}`}
      {effect !== null ? <strong>{` · ${effect}`}</strong> : null}
    </span>
  );
}

function Field({ label, children, id }: { label: string; children: ReactNode; id: string }) {
  return (
    <div className={styles.field}>
      <label htmlFor={id}>{label}</label>
      {children}
    </div>
  );
}

function ClausesForm({
  clauses,
  onClauses,
  fields,
}: {
  clauses: Clauses;
  onClauses: (clauses: Clauses) => void;
  fields: FieldRow[];
}) {
  const id = useId();
  const sort = clauses.sort ?? [];
  const names = fields.filter((f) => f.name !== "track").map((f) => f.name);
  const setSort = (next: SortKey[]) => {
    onClauses({ ...clauses, sort: next });
  };
  const limit = clauses.limit ?? null;
  const setLimit = (patch: Partial<LimitSpec> | null) => {
    onClauses({
      ...clauses,
      limit: patch === null ? null : { value: 50, unit: "tracks", selected_by: [], ...(limit ?? {}), ...patch },
    });
  };
  const selected = limit?.selected_by?.[0];
  return (
    <fieldset className={styles.clauses}>
      <legend>Order, size and shape</legend>
      <div className={styles.clauseRow}>
        <span className={styles.clauseLabel}>Sort by</span>
        {sort.map((key, index) => (
          <span key={index} className={styles.controls}>
            <select
              className={styles.select}
              aria-label={`Sort key ${String(index + 1)}: field`}
              value={key.field}
              onChange={(event) => {
                setSort(sort.map((k, i) => (i === index ? { ...k, field: event.target.value } : k)));
              }}
            >
              {[...new Set(["random", ...names, key.field])].map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
            <select
              className={styles.select}
              aria-label={`Sort key ${String(index + 1)}: order`}
              value={key.order}
              onChange={(event) => {
                setSort(sort.map((k, i) => (i === index ? { ...k, order: event.target.value as "asc" | "desc" } : k)));
              }}
            >
              <option value="asc">ascending</option>
              <option value="desc">descending</option>
            </select>
            <button
              type="button"
              className={styles.tool}
              aria-label={`Remove sort key ${String(index + 1)}`}
              onClick={() => {
                setSort(sort.filter((_, i) => i !== index));
              }}
            >
              <span aria-hidden="true">✕</span>
            </button>
          </span>
        ))}
        <Button
          size="sm"
          variant="ghost"
          onClick={() => {
            setSort([...sort, { field: "added_at", order: "desc" }]);
          }}
        >
          Add sort key
        </Button>
      </div>
      <div className={styles.clauseRow}>
        <label className={styles.inline}>
          <input
            type="checkbox"
            checked={limit !== null}
            onChange={(event) => {
              setLimit(event.target.checked ? {} : null);
            }}
          />
          Limit to
        </label>
        {limit !== null ? (
          <>
            <input
              className={styles.number}
              type="number"
              min={1}
              aria-label="Limit"
              value={limit.value}
              onChange={(event) => {
                const value = Number(event.target.value);
                if (Number.isFinite(value) && value > 0) setLimit({ value });
              }}
            />
            <select
              className={styles.select}
              aria-label="Limit unit"
              value={limit.unit}
              onChange={(event) => {
                setLimit({ unit: event.target.value as LimitSpec["unit"] });
              }}
            >
              <option value="tracks">tracks</option>
              <option value="minutes">minutes</option>
              <option value="percent">percent</option>
            </select>
            <span className={styles.clauseLabel}>selected by</span>
            <select
              className={styles.select}
              aria-label="Limit selected by"
              value={selected?.field ?? ""}
              onChange={(event) => {
                const field = event.target.value;
                setLimit({ selected_by: field === "" ? [] : [{ field, order: selected?.order ?? "desc" }] });
              }}
            >
              <option value="">the sort order</option>
              {["random", ...names].map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
            {selected !== undefined ? (
              <select
                className={styles.select}
                aria-label="Limit selected by: order"
                value={selected.order}
                onChange={(event) => {
                  setLimit({ selected_by: [{ ...selected, order: event.target.value as "asc" | "desc" }] });
                }}
              >
                <option value="desc">highest first</option>
                <option value="asc">lowest first</option>
              </select>
            ) : null}
          </>
        ) : null}
      </div>
      <div className={styles.clauseGrid}>
        <Field label="Max per artist" id={`${id}-max`}>
          <input
            id={`${id}-max`}
            className={styles.number}
            type="number"
            min={1}
            placeholder="no cap"
            value={clauses.max_per_artist ?? ""}
            onChange={(event) => {
              const value = Number(event.target.value);
              onClauses({
                ...clauses,
                max_per_artist: event.target.value === "" || !Number.isInteger(value) || value < 1 ? null : value,
              });
            }}
          />
        </Field>
        <Field label="Dedupe" id={`${id}-dedupe`}>
          <select
            id={`${id}-dedupe`}
            className={styles.select}
            value={clauses.dedupe}
            onChange={(event) => {
              onClauses({ ...clauses, dedupe: event.target.value as Clauses["dedupe"] });
            }}
          >
            <option value="none">no</option>
            <option value="id">same track id</option>
            <option value="isrc">same ISRC</option>
            <option value="recording">same recording</option>
          </select>
        </Field>
        <Field label="From (sources, comma-separated; empty: all)" id={`${id}-sources`}>
          <SourcesInput
            id={`${id}-sources`}
            sources={clauses.sources ?? null}
            onSources={(sources) => {
              onClauses({ ...clauses, sources });
            }}
          />
        </Field>
      </div>
    </fieldset>
  );
}

function SourcesInput({
  id,
  sources,
  onSources,
}: {
  id: string;
  sources: string[] | null;
  onSources: (s: string[] | null) => void;
}) {
  const [draft, setDraft] = useState((sources ?? []).join(", "));
  return (
    <input
      id={id}
      className={styles.input}
      value={draft}
      placeholder="liked, playlist:…"
      onChange={(event) => {
        setDraft(event.target.value);
        const items = event.target.value
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "");
        onSources(items.length === 0 ? null : items);
      }}
    />
  );
}
