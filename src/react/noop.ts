/**
 * The unsubscribe of a hook that has nothing to subscribe to (disabled, no shape yet): one function for all of them.
 */

/**
 * Does nothing.
 * @example
 * const subscribe = () => (shape === undefined ? noop : shape.subscribe(listener))
 */
export function noop(): void {}
