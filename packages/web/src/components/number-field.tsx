import { useEffect, useState } from 'preact/hooks';

/** The number a field's text stands for: null when empty or not a number. */
function numberOfText(text: string): number | null {
  return text.trim() === '' || Number.isNaN(Number(text)) ? null : Number(text);
}

/**
 * A number input that takes its value on change (blur or Enter) and keeps the text being typed until then. Bound to
 * the committed value alone, a re-render before the change (a live refresh, another filter) would put the field back
 * to that value and lose what was typed; bound to each keystroke, "0." would not survive (it is no number yet).
 */
export function NumberField(props: {
  value: number | null;
  onCommit: (value: number | null) => void;
  placeholder?: string;
  testId?: string;
}) {
  const [text, setText] = useState(props.value === null ? '' : String(props.value));
  // A value set from outside (filters cleared) replaces the text; the field's own commit already agrees with it.
  useEffect(() => {
    setText((current) => (numberOfText(current) === props.value ? current : props.value === null ? '' : String(props.value)));
  }, [props.value]);
  return (
    <input type="number" step="any" inputMode="decimal" placeholder={props.placeholder} data-testid={props.testId} value={text}
      onInput={(e) => setText(e.currentTarget.value)}
      onChange={(e) => props.onCommit(numberOfText(e.currentTarget.value))} />
  );
}
