/** Help text with `code` spans: the catalogue writes Markdown backticks, shown as code, not as backticks. */
export function InlineCode({ text }: { text: string }) {
  return <>{text.split(/`([^`]+)`/).map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part))}</>;
}
