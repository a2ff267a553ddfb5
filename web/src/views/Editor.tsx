/**
 * The YAML editor: a plain textarea over a backdrop that mirrors its lines, so problems can be
 * marked at their line (red) with their message after the text, the current step's line
 * highlighted, and failed expectations marked too (amber). Line numbers in a gutter.
 */
import { useLayoutEffect, useRef } from 'preact/hooks';

/** A message to show at a line (1-based). */
export interface LineNote {
  readonly line: number;
  readonly column: number;
  readonly message: string;
  readonly severity: 'error' | 'failure';
}

export interface EditorProps {
  readonly text: string;
  readonly notes: readonly LineNote[];
  /** 1-based line of the current step, if any. */
  readonly activeLine: number | null;
  /** A line to scroll into view (changes to it scroll). */
  readonly reveal: { readonly line: number; readonly seq: number } | null;
  onChange(text: string): void;
  onRun(): void;
}

const LINE_PX = 18;

export function Editor({ text, notes, activeLine, reveal, onChange, onRun }: EditorProps) {
  const area = useRef<HTMLTextAreaElement>(null);
  const back = useRef<HTMLDivElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const lines = text.split('\n');
  const byLine = new Map<number, LineNote[]>();
  for (const n of notes) byLine.set(n.line, [...(byLine.get(n.line) ?? []), n]);
  const sync = () => {
    const a = area.current;
    if (!a) return;
    if (back.current) {
      back.current.scrollTop = a.scrollTop;
      back.current.scrollLeft = a.scrollLeft;
    }
    if (gutter.current) gutter.current.scrollTop = a.scrollTop;
  };
  useLayoutEffect(() => {
    const a = area.current;
    if (!a || !reveal) return;
    const top = (reveal.line - 1) * LINE_PX;
    if (top < a.scrollTop || top > a.scrollTop + a.clientHeight - 3 * LINE_PX) {
      a.scrollTop = Math.max(0, top - a.clientHeight / 3);
      sync();
    }
  }, [reveal?.seq]);
  useLayoutEffect(sync);
  return (
    <div class="editor" data-testid="editor">
      <div class="gutter" ref={gutter} aria-hidden="true">
        {lines.map((_, i) => {
          const ns = byLine.get(i + 1);
          const cls = ns
            ? ns.some((n) => n.severity === 'error')
              ? 'ln error'
              : 'ln failure'
            : i + 1 === activeLine
              ? 'ln active'
              : 'ln';
          return (
            <div key={i} class={cls} data-line={i + 1}>
              {ns ? '●' : ''}
              {i + 1}
            </div>
          );
        })}
        <div class="ln pad" />
      </div>
      <div class="code">
        <div class="backdrop" ref={back} aria-hidden="true">
          {lines.map((l, i) => {
            const ns = byLine.get(i + 1);
            const sev = ns?.some((n) => n.severity === 'error') ? 'error' : ns ? 'failure' : '';
            return (
              <div key={i} class={`bl ${sev}${i + 1 === activeLine ? ' active' : ''}`}>
                <span class="txt">{l || ' '}</span>
                {ns && (
                  <span class={`lens ${sev}`} data-testid="inline-error" data-line={i + 1}>
                    {ns.map((n) => n.message).join(' · ')}
                  </span>
                )}
              </div>
            );
          })}
          <div class="bl pad" />
        </div>
        <textarea
          ref={area}
          data-testid="yaml"
          value={text}
          wrap="off"
          spellcheck={false}
          autocomplete="off"
          aria-label="scenario YAML"
          onInput={(e) => onChange((e.target as HTMLTextAreaElement).value)}
          onScroll={sync}
          onKeyDown={(e) => {
            if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
              e.preventDefault();
              onRun();
            } else if (e.key === 'Tab') {
              e.preventDefault();
              const a = e.target as HTMLTextAreaElement;
              const { selectionStart: s, selectionEnd: t } = a;
              onChange(`${a.value.slice(0, s)}  ${a.value.slice(t)}`);
              requestAnimationFrame(() => a.setSelectionRange(s + 2, s + 2));
            }
          }}
        />
      </div>
    </div>
  );
}

/** Moves the caret of the editor's textarea to a line. */
export function caretToLine(line: number): void {
  const a = document.querySelector<HTMLTextAreaElement>('[data-testid="yaml"]');
  if (!a) return;
  const lines = a.value.split('\n');
  let pos = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i]!.length + 1;
  a.focus();
  a.setSelectionRange(pos, pos);
}
