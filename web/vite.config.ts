/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The dev server proxies the API to a running `make run` (single-process mode on :8080).
const api = process.env.LABELOPS_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", sourcemap: true, chunkSizeWarningLimit: 1024 },
  server: {
    proxy: Object.fromEntries(
      ["/api", "/user", "/data", "/storage-data", "/tasks"].map((prefix) => [prefix, api]),
    ),
  },
  // `npm test`: unit tests next to what they test, in a DOM (cookies, localStorage, events).
  test: {
    include: ["src/**/*.test.{ts,tsx}"],
    environment: "happy-dom",
    unstubGlobals: true,
    restoreMocks: true,
  },
});
