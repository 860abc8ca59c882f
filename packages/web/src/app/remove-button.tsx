/** The × inside a tag or stage badge that takes it off; `label` says what it removes. */
export function RemoveButton({
  label,
  onRemove,
  disabled,
}: {
  label: string;
  onRemove: () => void;
  disabled?: boolean;
}) {
  return (
    <button type="button" className="tag-remove" aria-label={label} disabled={disabled} onClick={onRemove}>
      ×
    </button>
  );
}
