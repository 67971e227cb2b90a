#!/usr/bin/env node
// `live-shapes dev`: filled in by the dev-server work (issue 3).
export {}
