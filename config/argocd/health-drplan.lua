-- Argo CD health check for dr.sdrs.io/DRPlan (sdrs-operator).
--
-- Install it as the argocd-cm key
--   resource.customizations.health.dr.sdrs.io_DRPlan
-- config/argocd/argocd-cm.yaml carries this file inlined; keep the two
-- identical (internal/health tests fail when they differ).
--
-- A plan moves its member ProtectionGroups to spec.desiredActiveSite in
-- waves (a run, status.run), with approval, wait and Job steps between
-- them. The first rule that matches decides:
--   Progressing  no status or no Ready condition yet (just created)
--   Progressing  status.observedGeneration or Ready's observedGeneration is
--                older than metadata.generation (status describes an old spec)
--   Suspended    WaitingForApproval=True: the run waits for an Approve
--                decision (the message names the step)
--   Suspended    Ready=False with reason Suspended (spec.suspend holds a
--                live run)
--   Progressing  Reconciling=True: a run is live (its waves, steps and
--                members move); the message names the run, its wave and
--                how many of the wave's members are done
--   Degraded     Valid=False for the current generation (members in two
--                waves or in none, a decision naming an unknown step): no
--                run starts until it is fixed
--   Degraded     Stalled=True for the current generation: a run is Blocked
--                (a failed member or step, an expired approval) or ended
--                Failed or Aborted, or members are not at the desired site
--   Healthy      Ready=True for the current generation (every member at the
--                desired site and no run live, or no desiredActiveSite)
--   Progressing  anything else
-- So a plan is never Degraded while it is new, before the operator looked
-- at a new spec, or while its run moves: a Degraded during a sync fails the
-- Argo CD sync.
--
-- It uses only the Lua base and table libraries (Argo CD opens no string or
-- math library for health checks).

local hs = {}

local generation = 0
if obj.metadata ~= nil and obj.metadata.generation ~= nil then
  generation = obj.metadata.generation
end

local st = obj.status
local conditions = {}
if st ~= nil and st.conditions ~= nil then
  for _, c in ipairs(st.conditions) do
    if c.type ~= nil then
      conditions[c.type] = c
    end
  end
end

local function isTrue(t)
  return conditions[t] ~= nil and conditions[t].status == "True"
end

local function isFalse(t)
  return conditions[t] ~= nil and conditions[t].status == "False"
end

-- A condition describes the current spec when it was written for this
-- generation; a condition without observedGeneration counts as old.
local function isCurrent(t)
  local c = conditions[t]
  return c ~= nil and c.observedGeneration ~= nil and c.observedGeneration >= generation
end

-- The condition's message, or its reason when it has no message.
local function say(t)
  local c = conditions[t]
  if c == nil then
    return ""
  end
  if c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c.reason ~= nil then
    return c.reason
  end
  return ""
end

local function count(counts, field)
  if counts == nil or counts[field] == nil then
    return 0
  end
  return counts[field]
end

-- The live run as "run r-0003: wave apps 4/10" (members of the wave done,
-- that is succeeded or skipped, of its total), or "" without a run.
local function runSummary()
  local run = st.run
  if run == nil or run.id == nil then
    return ""
  end
  local msg = "run " .. run.id
  if run.mode == "Drill" then
    msg = "drill " .. msg
  end
  local current = run.currentWave
  if current == nil or current == "" then
    return msg
  end
  msg = msg .. ": wave " .. current
  if run.waves ~= nil then
    for _, w in ipairs(run.waves) do
      if w.name == current and w.counts ~= nil then
        local done = count(w.counts, "succeeded") + count(w.counts, "skipped")
        msg = msg .. " " .. tostring(done) .. "/" .. tostring(count(w.counts, "total"))
        local failed = count(w.counts, "failed")
        if failed > 0 then
          msg = msg .. " (" .. tostring(failed) .. " failed)"
        end
      end
    end
  end
  return msg
end

local function progressing(msg)
  hs.status = "Progressing"
  hs.message = msg
  return hs
end

if st == nil or conditions["Ready"] == nil then
  return progressing("Waiting for the operator to report status")
end

local observed = 0
if st.observedGeneration ~= nil then
  observed = st.observedGeneration
end
if observed < generation or not isCurrent("Ready") then
  local msg = "Waiting for the operator to reconcile generation " .. tostring(generation)
  if isTrue("Reconciling") and isCurrent("Reconciling") then
    msg = msg .. ": " .. say("Reconciling")
  end
  return progressing(msg)
end

if isTrue("WaitingForApproval") then
  hs.status = "Suspended"
  hs.message = say("WaitingForApproval")
  return hs
end

if isFalse("Ready") and conditions["Ready"].reason == "Suspended" then
  hs.status = "Suspended"
  hs.message = say("Ready")
  return hs
end

if isTrue("Reconciling") then
  local msg = runSummary()
  local why = say("Reconciling")
  if msg == "" then
    msg = why
  elseif why ~= "" then
    msg = msg .. "; " .. why
  end
  return progressing(msg)
end

if isFalse("Valid") and isCurrent("Valid") then
  hs.status = "Degraded"
  hs.message = say("Valid")
  return hs
end

if isTrue("Stalled") and isCurrent("Stalled") then
  hs.status = "Degraded"
  hs.message = say("Stalled")
  return hs
end

if isTrue("Ready") then
  hs.status = "Healthy"
  hs.message = say("Ready")
  local run = st.run
  if run ~= nil and run.id ~= nil and run.rtoMet == false then
    hs.message = hs.message .. "; run " .. run.id .. " took longer than spec.rto"
  end
  return hs
end

return progressing(say("Ready"))
