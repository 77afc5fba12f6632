-- Headless Neovim 0.7.2 as an LSP client for dockwright (adapted from the
-- team's recipe harness).  Run by tests/nvim/run.sh:
--   LSP_CMD='build/dockwright --stdio' DOCKERFILE=/path/Dockerfile \
--   nvim --headless -u NONE -i NONE -n -c 'luafile tests/nvim/lsp-diag.lua'
-- (Neovim 0.7 has no `-l`; `luafile` it is.)  Prints one JSON line per event
-- and one "file:line:col: SEVERITY: message [code]" line per diagnostic as
-- Neovim's own diagnostic API sees them.  Then edits the buffer (Neovim
-- sends an incremental didChange) and prints the diagnostics again.
-- Exits 0 on success, 2 on a timeout or a dead server, 3 when the server
-- did not start, 4 when the server did not exit 0 after shutdown.
local function out(t) io.stdout:write(vim.fn.json_encode(t) .. '\n') end
local function die(code, msg)
  io.stderr:write(msg .. '\n'); vim.cmd('cquit ' .. code)
end

local cmd = vim.split(vim.env.LSP_CMD, ' ', { trimempty = true })
local file = vim.fn.fnamemodify(vim.env.DOCKERFILE or 'Dockerfile', ':p')
local timeout = tonumber(vim.env.LSP_TIMEOUT or '10000')

local diags, exit_code = nil, nil
local client_id = vim.lsp.start_client({
  name = 'dockwright',
  cmd = cmd,
  root_dir = vim.fn.fnamemodify(file, ':h'),
  init_options = { dockwright = { diagnostics = { debounceMs = 20 } } },
  handlers = {
    ['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
      diags = result
      vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
    end,
  },
  on_exit = function(code, signal) exit_code = code end,
})
if not client_id then die(3, 'start_client failed for: ' .. table.concat(cmd, ' ')) end

vim.cmd('edit ' .. vim.fn.fnameescape(file))
vim.bo.filetype = 'dockerfile'
local buf = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(buf, client_id)

local function wait_diags(label, version)
  local t0 = vim.loop.hrtime()
  local ok = vim.wait(timeout, function()
    return exit_code ~= nil or (diags ~= nil and
      (version == nil or diags.version == version))
  end, 10)
  if not ok or exit_code ~= nil then
    die(2, exit_code and 'server exited before publishing diagnostics' or
      ('no publishDiagnostics within ' .. timeout .. ' ms'))
  end
  out({ event = label, ms = math.floor((vim.loop.hrtime() - t0) / 1e6),
        version = diags.version, count = #diags.diagnostics })
  -- The protocol's view: 0-based line and UTF-16 character.
  for _, d in ipairs(diags.diagnostics) do
    io.stdout:write(string.format('lsp %d:%d-%d:%d %s\n', d.range.start.line,
      d.range.start.character, d.range['end'].line, d.range['end'].character,
      d.code or '?'))
  end
  -- Neovim's view: 1-based line and 1-based byte column.
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    io.stdout:write(string.format('%s:%d:%d: %s: %s [%s]\n',
      vim.fn.fnamemodify(file, ':t'), d.lnum + 1, d.col + 1,
      vim.diagnostic.severity[d.severity], d.message, d.code or '?'))
  end
end

wait_diags('diagnostics')
local client = vim.lsp.get_client_by_id(client_id)
local caps = client.server_capabilities or client.resolved_capabilities
out({ event = 'capabilities', positionEncoding = caps.positionEncoding or vim.NIL })

-- Edit: append "EXPOSE 70000" after the last line.  Neovim computes the
-- incremental change itself.
diags = nil
local n = vim.api.nvim_buf_line_count(buf)
vim.api.nvim_buf_set_lines(buf, n, n, false, { 'EXPOSE 70000' })
wait_diags('after-edit', vim.lsp.util.buf_versions[buf])

-- Completion and hover through vim.lsp, at positions after é and 😀
-- (UTF-16 columns on the wire).
local function request(method, row, col)
  local line = vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1]
  local _, utf16 = vim.str_utfindex(line, col)
  local params = { textDocument = { uri = vim.uri_from_bufnr(buf) },
                   position = { line = row, character = utf16 } }
  local res = vim.lsp.buf_request_sync(buf, method, params, timeout)
  if not res or not res[client_id] or res[client_id].err then
    die(2, method .. ' failed: ' .. vim.inspect(res))
  end
  return res[client_id].result, utf16
end
n = vim.api.nvim_buf_line_count(buf)
vim.api.nvim_buf_set_lines(buf, n, n, false,
  { 'ENV HOME_DIR=/h', 'LABEL y="é😀" z=${HO', 'RUN --mount=type=' })
local last = n + 2
local r = request('textDocument/completion', last, #'RUN --mount=type=')
local labels = {}
for _, it in ipairs(r.items or r) do table.insert(labels, it.label) end
table.sort(labels)
io.stdout:write('complete mount types: ' .. table.concat(labels, ',') .. '\n')
local col = #'LABEL y="é😀" z=${HO'
local u16
r, u16 = request('textDocument/completion', n + 1, col)
for _, it in ipairs(r.items or r) do
  if it.label == 'HOME_DIR' then
    io.stdout:write(string.format('complete var %s at %d-%d of %d (%s)\n',
      it.label, it.textEdit.range.start.character,
      it.textEdit.range['end'].character, u16, it.detail or ''))
  end
end
r = request('textDocument/signatureHelp', last, #'RUN --mount=type=')
local sig = r.signatures[(r.activeSignature or 0) + 1]
local p = sig.parameters[(r.activeParameter or sig.activeParameter or 0) + 1]
local plabel = type(p.label) == 'table' and
  sig.label:sub(p.label[1] + 1, p.label[2]) or p.label
io.stdout:write('signature: ' .. plabel .. '\n')
r = request('textDocument/hover', n + 1, 2)
io.stdout:write('hover: ' .. vim.split(r.contents.value, '\n')[2] .. '\n')

vim.lsp.stop_client(client_id)
vim.wait(5000, function() return exit_code ~= nil end, 10)
out({ event = 'exit', code = exit_code or vim.NIL })
if exit_code ~= 0 then die(4, 'server exit code ' .. tostring(exit_code)) end
vim.cmd('qa!')
