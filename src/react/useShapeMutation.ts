/**
 * `useShapeMutation`: optimistic writes to a shape from a component, in the shape of TanStack Query's `useMutation`.
 *
 * Invariants:
 * - `mutate` and `mutateAsync` keep their identity for the component's life and always run the latest `apply`,
 *   `commit`, `onSuccess` and `onError` (inline functions neither go stale nor change anything).
 * - `mutateAsync(variables)` shows the optimistic rows before it returns (the shape publishes synchronously, so the
 *   next render shows them) and settles when the stream confirms the write or after the rollback.
 * - `isPending`, `error`, `data` and `status` describe the latest call only: an older call that settles later does
 *   not overwrite them. `reset()` returns to idle without touching pending writes.
 * - That state is an external store read with `useSyncExternalStore`, as TanStack Query's `useMutation` reads its
 *   observer, not `useState`: a call made inside a transition (a `<form action>`, `useActionState`,
 *   `startTransition`) shows `pending` at once. With `useState` the `pending` update would ride the transition and
 *   show only when the action ended, that is never.
 * - A callback (`onSuccess`, `onError`, `onSettled`, the hook's or a call's) never changes a write's outcome: a write
 *   the stream confirmed stays a success and `mutateAsync` resolves; a refused one rejects with the write's error.
 *   A call's own callbacks (`mutate(variables, { onSuccess })`) run only for the latest call and while mounted.
 *   What a callback throws is reported as an uncaught error would be (`reportError`), and the callbacks after it
 *   still run.
 * - The shape stays retained while the component is mounted (useRetainedShape.ts) and while a write is pending
 *   (optimisticOverlay.ts), so the stream that confirms it stays open even if the component unmounts.
 */
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react'
import type { CommitResult, MutationDraft, MutationResult, Row, Txid } from '../core/index'
import type { ShapeOrOptions } from './useRetainedShape'
import { useRetainedShape } from './useRetainedShape'

/**
 * What `useShapeMutation` does with the variables of each call.
 * @example
 * const options: UseShapeMutationOptions<Todo, { id: number }> = {
 *   apply: (draft, { id }) => draft.update({ id, done: true }),
 *   commit: ({ id }) => fetch(`/api/todos/${id}/done`, { method: 'POST' }).then((r) => r.json()),
 * }
 */
export interface UseShapeMutationOptions<T, V> {
  /** Writes the optimistic rows for `variables`, synchronously. */
  apply: (draft: MutationDraft<T>, variables: V) => void
  /** The real write; resolves to `{ txid }` (`pg_current_xact_id()::xid` of its transaction, or several). */
  commit: (variables: V) => Promise<CommitResult | Txid> | CommitResult | Txid
  /** After the stream confirmed the write. */
  onSuccess?: (data: MutationResult, variables: V) => void
  /** After the rollback, with the commit's error or `TxidTimeoutError`. */
  onError?: (error: unknown, variables: V) => void
  /** After `onSuccess` or `onError`; `error` is `null` after a success, as in TanStack Query. */
  onSettled?: (data: MutationResult | undefined, error: unknown, variables: V) => void
  /** How long to wait for the txid once `commit` resolved (default 30 000 ms). */
  timeoutMs?: number | undefined
}

/**
 * Per-call callbacks of `mutate`, run after the hook's own, as TanStack Query runs them: only for the latest call
 * (not one a later call or `reset()` superseded) and only while the component is mounted.
 */
export interface MutateCallbacks<V> {
  onSuccess?: (data: MutationResult, variables: V) => void
  onError?: (error: unknown, variables: V) => void
  onSettled?: (data: MutationResult | undefined, error: unknown, variables: V) => void
}

/** What `useShapeMutation` returns. */
export interface UseShapeMutationResult<V> {
  /** Fire and forget: errors go to `onError` and `error`, never to an unhandled rejection. */
  mutate: (variables: V, callbacks?: MutateCallbacks<V>) => void
  /** Resolves when the stream confirmed the write; rejects (after the rollback) with the commit's error or `TxidTimeoutError`. */
  mutateAsync: (variables: V) => Promise<MutationResult>
  /** True while the latest call waits for its commit and confirmation. */
  isPending: boolean
  isSuccess: boolean
  isError: boolean
  isIdle: boolean
  status: 'idle' | 'pending' | 'success' | 'error'
  /** The latest call's error, after its rollback; `null` when there is none (idle, pending, success), as in TanStack Query. */
  error: unknown
  /** The latest confirmed call's result. */
  data: MutationResult | undefined
  /** The latest call's variables. */
  variables: V | undefined
  /** Back to idle (pending writes go on). */
  reset: () => void
}

interface State<V> {
  readonly status: 'idle' | 'pending' | 'success' | 'error'
  readonly error: unknown
  readonly data: MutationResult | undefined
  readonly variables: V | undefined
}

const IDLE: State<never> = { status: 'idle', error: null, data: undefined, variables: undefined }

/** One hook's mutation state, for `useSyncExternalStore`. */
interface StateStore<V> {
  get(): State<V>
  set(next: State<V>): void
  subscribe(listener: () => void): () => void
}

function createStateStore<V>(): StateStore<V> {
  let state: State<V> = IDLE
  const listeners = new Set<() => void>()
  return {
    get: () => state,
    set(next) {
      state = next
      for (const listener of [...listeners]) listener()
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

/**
 * Optimistic writes to a shape: `apply` shows the rows at once, `commit` writes them, and the call settles when the
 * stream confirms the write (by its txid) or after rolling the rows back.
 *
 * @example
 * function AddTodo({ shape }: { shape: Shape<Todo> }) {
 *   const { mutate, isPending, error } = useShapeMutation(shape, {
 *     apply: (draft, todo: Todo) => draft.insert(todo),
 *     commit: (todo) => fetch('/api/todos', { method: 'POST', body: JSON.stringify(todo) }).then((r) => r.json()), // → { txid }
 *   })
 *   return <button disabled={isPending} onClick={() => mutate({ id: crypto.randomUUID(), title: 'New', done: false })}>Add</button>
 * }
 */
export function useShapeMutation<T = Row, V = void>(
  shapeOrOptions: ShapeOrOptions<T> | undefined,
  options: UseShapeMutationOptions<T, V>,
): UseShapeMutationResult<V> {
  const shape = useRetainedShape(shapeOrOptions)
  const shapeRef = useRef(shape)
  shapeRef.current = shape
  const optionsRef = useRef(options)
  optionsRef.current = options
  const [store] = useState(createStateStore<V>)
  const state = useSyncExternalStore(store.subscribe, store.get, store.get)
  const latest = useRef(0)
  const mounted = useRef(false)
  useEffect(() => {
    mounted.current = true
    return () => {
      mounted.current = false
    }
  }, [])

  const mutateAsync = useCallback((variables: V): Promise<MutationResult> => {
    const call = ++latest.current
    const current = shapeRef.current
    const { apply, commit, timeoutMs } = optionsRef.current
    const settle = (next: State<V>): void => {
      if (latest.current === call) store.set(next)
    }
    settle({ status: 'pending', error: null, data: undefined, variables })
    const mutation =
      current === undefined
        ? Promise.reject(new Error('useShapeMutation: the shape is disabled (enabled: false or no shape), nothing to write to'))
        : current.mutate({
            apply: (draft) => apply(draft, variables),
            commit: () => commit(variables),
            ...(timeoutMs === undefined ? {} : { timeoutMs }),
          })
    return mutation.then(
      (data) => {
        settle({ status: 'success', error: null, data, variables })
        runCallback(optionsRef.current.onSuccess, data, variables)
        runCallback(optionsRef.current.onSettled, data, null, variables)
        return data
      },
      (error: unknown) => {
        settle({ status: 'error', error, data: undefined, variables })
        runCallback(optionsRef.current.onError, error, variables)
        runCallback(optionsRef.current.onSettled, undefined, error, variables)
        throw error
      },
    )
  }, [store])

  const mutate = useCallback(
    (variables: V, callbacks?: MutateCallbacks<V>): void => {
      const written = mutateAsync(variables)
      const call = latest.current
      const heard = (): boolean => mounted.current && latest.current === call
      written.then(
        (data) => {
          if (!heard()) return
          runCallback(callbacks?.onSuccess, data, variables)
          runCallback(callbacks?.onSettled, data, null, variables)
        },
        (error: unknown) => {
          if (!heard()) return
          runCallback(callbacks?.onError, error, variables)
          runCallback(callbacks?.onSettled, undefined, error, variables)
        },
      )
    },
    [mutateAsync],
  )

  const reset = useCallback((): void => {
    latest.current++
    store.set(IDLE)
  }, [store])

  return {
    mutate,
    mutateAsync,
    reset,
    status: state.status,
    isPending: state.status === 'pending',
    isSuccess: state.status === 'success',
    isError: state.status === 'error',
    isIdle: state.status === 'idle',
    error: state.error,
    data: state.data,
    variables: state.variables,
  }
}

/** Runs a user callback; what it throws is reported, not propagated (callbacks never change an outcome, above). */
function runCallback<A extends unknown[]>(callback: ((...args: A) => void) | undefined, ...args: A): void {
  if (callback === undefined) return
  try {
    callback(...args)
  } catch (error) {
    reportCallbackError(error)
  }
}

/** Reports as the platform reports an uncaught error, without interrupting the caller. */
function reportCallbackError(error: unknown): void {
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError
  if (typeof report === 'function') report(error)
  else
    setTimeout(() => {
      throw error
    }, 0)
}
