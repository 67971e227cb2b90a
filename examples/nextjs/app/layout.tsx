import type { ReactNode } from 'react'
import './globals.css'

export const metadata = {
  title: 'live-shapes · Next.js example',
  description: 'A Postgres table rendered on the server, hydrated, and kept live over SSE.',
}

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  )
}
