/**
 * `html` tagged templates (htm bound to Preact's `h`): components without a JSX build step.
 * @module
 */
import { h } from 'preact';
import htm from 'htm';

/** Tagged template producing Preact elements. */
export const html = htm.bind(h);
