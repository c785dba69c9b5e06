# OTAO service image. Build: docker build -t otao .   Run: see docs/operations.md for the variables.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json turbo.json tsconfig.base.json tsconfig.json ./
COPY packages ./packages
COPY apps ./apps
RUN npm ci --no-audit --no-fund && npx turbo run build --filter=@otao/server... && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production OTAO_HTTP_PORT=8080
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages ./packages
COPY --from=build /src/apps/server ./apps/server
# the operator console (/console/): its package.json (the server resolves it) and the built files
COPY --from=build /src/apps/console/package.json ./apps/console/package.json
COPY --from=build /src/apps/console/dist ./apps/console/dist
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.OTAO_HTTP_PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM stops taking requests, finishes in-flight ones, drains NATS and closes the store.
STOPSIGNAL SIGTERM
CMD ["node", "apps/server/dist/main.js"]
