/** Small form and table pieces the views share. */
import type { JSX } from 'preact';

/** a labelled input whose text the caller keeps (numbers stay text until submitted) */
export function Field(
  props: { label: string; value: string; onText(text: string): void } & Omit<
    JSX.InputHTMLAttributes<HTMLInputElement>,
    'value' | 'onInput'
  >,
) {
  const { label, value, onText, ...input } = props;
  return (
    <label>
      {label}
      <input {...input} value={value} onInput={(e) => onText(e.currentTarget.value)} />
    </label>
  );
}

/** a table's header row: one column header per name */
export function HeaderRow(props: { columns: readonly string[] }) {
  return (
    <thead>
      <tr>
        {props.columns.map((c) => (
          <th key={c} scope="col">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}
