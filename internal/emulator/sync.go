package emulator

// Replication sync: a group's pairs copy data from the production to the DR
// site. While copying, progress rises from its starting value to 100 over
// the sync duration; a timer then marks the group active, so the change
// happens (and is saved) even if nobody reads the group.

// startSync begins copying from progress `from`. Caller holds e.mu.
func (e *Emulator) startSync(g *Group, from int) {
	g.Replication = SyncState{
		Status:   replCopying,
		Progress: from,
		From:     from,
		Start:    e.clock.Now(),
		Duration: e.syncDuration,
	}
	e.scheduleSync(g)
}

// scheduleSync arms the timer that ends the current copy, measured from
// its start so a reloaded copy ends on time.
func (e *Emulator) scheduleSync(g *Group) {
	start := g.Replication.Start
	due := max(start.Add(g.Replication.Duration).Sub(e.clock.Now()), 0)
	e.after("sync/"+g.ID, due, func() {
		cur := e.st.Groups[g.ID]
		if cur == nil || cur.Replication.Status != replCopying || !cur.Replication.Start.Equal(start) {
			return
		}
		cur.Replication = SyncState{Status: replActive, Progress: 100}
		cur.UpdatedAt = e.clock.Now()
	})
}

// setSync sets a replication state that does not move by itself (active,
// active-stopped, or none) and cancels any running copy. Caller holds e.mu.
func (e *Emulator) setSync(g *Group, status string, progress int) {
	e.cancel("sync/" + g.ID)
	g.Replication = SyncState{Status: status, Progress: progress}
}

// stopSync freezes replication where it is: active-stopped, progress kept.
func (e *Emulator) stopSync(g *Group) {
	e.setSync(g, replActiveStopped, e.progress(g))
}
