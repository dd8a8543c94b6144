/**
 * A confirmation dialog (the native `<dialog>` element as a modal: focus stays inside, Escape
 * cancels) for the console's destructive actions.
 * @module
 */
import { useEffect, useRef } from 'preact/hooks';
import { html } from './html.js';

/**
 * @param {{ title: string, children: any, confirm: string, onConfirm: () => void, onCancel: () => void }} p
 */
export function Confirm({ title, children, confirm, onConfirm, onCancel }) {
  const ref = useRef(/** @type {HTMLDialogElement | null} */ (null));
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.open && d.close();
  }, []);
  return html`<dialog
    ref=${ref}
    class="confirm"
    aria-labelledby="confirm-h"
    onCancel=${(/** @type {Event} */ e) => {
      e.preventDefault();
      onCancel();
    }}
  >
    <h3 id="confirm-h">${title}</h3>
    <div class="confirm-body">${children}</div>
    <div class="actions">
      <button type="button" onClick=${onCancel} autofocus>Cancel</button>
      <button type="button" class="danger" onClick=${onConfirm}>${confirm}</button>
    </div>
  </dialog>`;
}
