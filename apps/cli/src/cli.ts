#!/usr/bin/env node
// The `cluster-pack` command as an npm bin.
import { main } from "./main.js";

process.exitCode = await main(process.argv.slice(2));
