/**
 * The example of docs/guides/testing.md, run as a test. The guide's code block must stay identical to the code
 * between the markers below (with the package's import paths), so the guide cannot drift from what passes.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { expect as expectGuide, it as itGuide } from 'vitest'
// guide:start
import { render, screen } from '@testing-library/react'
import { expect, it } from 'vitest'
import { ShapeClient, ShapeClientProvider, useShape } from '../../src/index'
import { createTestShapeServer } from '../../src/testing/index'

type Todo = { id: number; title: string }

function Todos({ url }: { url: string }) {
  const { data, isLoading } = useShape<Todo>({ url, params: { table: 'todos' } })
  if (isLoading) return <p>Loading…</p>
  return <ul>{data.map((todo) => <li key={todo.id}>{todo.title}</li>)}</ul>
}

it('shows the todos, then a todo written after the first render', async () => {
  const server = createTestShapeServer({
    tables: [{
      name: 'todos',
      columns: [{ name: 'id', type: 'int4', primaryKey: true }, { name: 'title', type: 'text' }],
      rows: [{ id: 1, title: 'Write a test' }],
    }],
  })
  const client = new ShapeClient({ fetch: server.fetch })
  const view = render(<ShapeClientProvider client={client}><Todos url={server.url} /></ShapeClientProvider>)

  expect(await screen.findByText('Write a test')).toBeTruthy()
  server.source.insert('todos', { id: 2, title: 'Ship it' })
  expect(await screen.findByText('Ship it')).toBeTruthy()

  view.unmount()
  client.dispose()
  await server.close()
})
// guide:end

itGuide('docs/guides/testing.md shows exactly this example', () => {
  const self = readFileSync(resolve('test/react/guideTesting.test.tsx'), 'utf8')
  const example = self.slice(self.indexOf('// guide:start\n') + 15, self.indexOf('// guide:end'))
    .replace("'../../src/index'", "'live-shapes'")
    .replace("'../../src/testing/index'", "'live-shapes/testing'")
  const guide = readFileSync(resolve('docs/guides/testing.md'), 'utf8')
  const block = /```tsx\n([\s\S]*?)```/.exec(guide)?.[1]
  expectGuide(block).toBe(example)
})
